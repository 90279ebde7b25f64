/* The reference for `dump --from-proc-file`: a straightforward C parser of
 * /proc/PID/timers text (docs/kernel-facts.md section 1) with fgets + sscanf, building
 * an array of records. Built by Scripts/bench.sh with cc -O2.
 * Prints the number of records and a checksum (so nothing is optimised away). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct record {
    int id;
    int signo;
    unsigned long long sival;
    char notify[16];
    char kind[8];
    int target;
    int clock;
};

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: cparse FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    static char iobuf[1 << 16];
    setvbuf(f, iobuf, _IOFBF, sizeof iobuf);
    size_t count = 0, capacity = 1024;
    struct record *records = malloc(capacity * sizeof *records);
    char line[256];
    for (;;) {
        struct record r;
        if (!fgets(line, sizeof line, f)) break;
        if (sscanf(line, "ID: %d", &r.id) != 1) goto bad;
        if (!fgets(line, sizeof line, f)) goto bad;
        if (sscanf(line, "signal: %d/%llx", &r.signo, &r.sival) != 2) {
            if (sscanf(line, "signal: %d/(null)", &r.signo) != 1) goto bad;
            r.sival = 0;
        }
        if (!fgets(line, sizeof line, f)) goto bad;
        if (sscanf(line, "notify: %15[a-z]/%7[a-z].%d", r.notify, r.kind, &r.target) != 3) goto bad;
        if (!fgets(line, sizeof line, f)) goto bad;
        if (sscanf(line, "ClockID: %d", &r.clock) != 1) goto bad;
        if (count == capacity) {
            capacity *= 2;
            records = realloc(records, capacity * sizeof *records);
        }
        records[count++] = r;
    }
    unsigned long long sum = 0;
    for (size_t i = 0; i < count; i++)
        sum += (unsigned)records[i].id + records[i].sival + (unsigned)records[i].clock + records[i].kind[0];
    printf("records=%zu checksum=%llu\n", count, sum);
    free(records);
    fclose(f);
    return 0;
bad:
    fprintf(stderr, "cparse: malformed block after %zu records: %s", count, line);
    return 1;
}
