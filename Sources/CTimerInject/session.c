// The public calls: in-process sessions (restore --into), one-shot batches in
// a forked worker (dump --values), stopping further threads, and the timer
// value reader built on them.
#include "inject_internal.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <pthread.h>

#if defined(__x86_64__)

static int tc_abandon_step = 0;

void tc_session_abandon_at(int step) { tc_abandon_step = step; }

static void tc_session_init(struct tc_session *s, struct tc_inject_report *report, int abandon_at) {
    memset(s, 0, sizeof *s);
    s->mem = -1;
    s->report = report;
    s->abandon_at = abandon_at;
    memset(report, 0, sizeof *report);
}

struct tc_session *tc_session_open(pid_t pid, int require_frame, unsigned timeout_seconds,
                                   struct tc_inject_report *report) {
    struct tc_session *s = malloc(sizeof *s);
    if (!s) {
        memset(report, 0, sizeof *report);
        tc_report_fail(report, TC_INJECT_WORKER, ENOMEM, 0);
        return NULL;
    }
    tc_session_init(s, &s->own_report, tc_abandon_step);
    tc_abandon_step = 0;
    if (tc_prepare(s, pid, require_frame, timeout_seconds)) {
        tc_finish(s);
        *report = s->own_report;
        free(s);
        return NULL;
    }
    *report = s->own_report;
    return s;
}

int tc_session_run(struct tc_session *s, struct tc_call *calls, int32_t count, void *data, size_t data_len) {
    return tc_run_batch(s, calls, count, data, data_len);
}

void tc_session_get_report(const struct tc_session *s, struct tc_inject_report *report) {
    *report = s->own_report;
}

int tc_session_close(struct tc_session *s, struct tc_inject_report *report) {
    int rc = tc_finish(s);
    if (report) *report = s->own_report;
    free(s);
    return rc;
}

// prepare, run, restore in one go (the worker's body, or in process).
static int tc_one_batch(pid_t pid, struct tc_call *calls, int32_t count, void *data, size_t data_len,
                        struct tc_inject_report *report, unsigned timeout_seconds, int abandon_at) {
    struct tc_session s;
    tc_session_init(&s, report, abandon_at);
    if (!tc_prepare(&s, pid, 0, timeout_seconds)) tc_run_batch(&s, calls, count, data, data_len);
    return tc_finish(&s);
}

static int tc_batch(pid_t pid, struct tc_call *calls, int32_t count, void *data, size_t data_len,
                    struct tc_inject_report *report, int use_worker, unsigned timeout_seconds,
                    int drop, uid_t uid, gid_t gid, int abandon_at) {
    if (!use_worker) {
        // In process: hold back ^C, SIGTERM, SIGHUP and SIGQUIT in this thread
        // until the target is detached; they are delivered right after. (A
        // process-directed signal can still land on another thread, and
        // SIGKILL cannot be held: that is what the worker is for.)
        sigset_t hold, old;
        sigemptyset(&hold);
        sigaddset(&hold, SIGINT);
        sigaddset(&hold, SIGTERM);
        sigaddset(&hold, SIGHUP);
        sigaddset(&hold, SIGQUIT);
        pthread_sigmask(SIG_BLOCK, &hold, &old);
        int rc = tc_one_batch(pid, calls, count, data, data_len, report, timeout_seconds, 0);
        report->worker_pid = 0;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return rc;
    }
    memset(report, 0, sizeof *report);
    size_t calls_bytes = (size_t)(count > 0 ? count : 0) * sizeof(struct tc_call);
    size_t size = sizeof(struct tc_inject_report) + calls_bytes + data_len;
    void *shared = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) return tc_report_fail(report, TC_INJECT_WORKER, errno, 0);
    struct tc_inject_report *wr = shared;
    struct tc_call *wcalls = (struct tc_call *)(wr + 1);
    unsigned char *wdata = (unsigned char *)wcalls + calls_bytes;
    memcpy(wcalls, calls, calls_bytes);
    if (data_len) memcpy(wdata, data, data_len);
    sigset_t all, old;
    sigfillset(&all);
    // Block everything across fork so no handler of the parent ever runs in the worker.
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t child = fork();
    if (child == 0) {
        // The worker: its own session (a terminal's ^C or a kill of the tool's
        // process group does not reach it), all catchable signals blocked.
        setsid();
        if (drop) {
            // Raw syscalls: glibc's set*id would signal threads this copy does not have.
            if (syscall(SYS_setgroups, 0, NULL) != 0 || syscall(SYS_setresgid, gid, gid, gid) != 0 ||
                syscall(SYS_setresuid, uid, uid, uid) != 0) {
                tc_report_fail(wr, TC_INJECT_WORKER, errno, 0);
                _exit(0);
            }
        }
        tc_one_batch(pid, wcalls, count, wdata, data_len, wr, timeout_seconds, abandon_at);
        _exit(0);
    }
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (child < 0) {
        munmap(shared, size);
        return tc_report_fail(report, TC_INJECT_WORKER, fork_errno, 0);
    }
    int st = 0;
    while (waitpid(child, &st, 0) < 0) {
        if (errno != EINTR) { st = -1; break; }
    }
    memcpy(report, wr, sizeof *report);
    memcpy(calls, wcalls, calls_bytes);
    if (data_len) memcpy(data, wdata, data_len);
    report->worker_pid = child;
    munmap(shared, size);
    if (st == -1 || !WIFEXITED(st)) return tc_report_fail(report, TC_INJECT_WORKER, 0, st);
    return report->stage;
}

int tc_inject_batch(pid_t pid, struct tc_call *calls, int32_t count, void *data, size_t data_len,
                    struct tc_inject_report *report, int use_worker, unsigned timeout_seconds) {
    return tc_batch(pid, calls, count, data, data_len, report, use_worker, timeout_seconds, 0, 0, 0, 0);
}

int tc_thread_stop(pid_t tid, unsigned timeout_seconds, struct tc_inject_report *report) {
    memset(report, 0, sizeof *report);
    return tc_stop_thread(tid, timeout_seconds, report);
}

int tc_thread_resume(pid_t tid) {
    if (tc_pt(PTRACE_DETACH, tid, 0, 0) != 0) return errno == ESRCH ? 0 : -1;
    return 0;
}

// timer_gettime(id, &slot) and timer_getoverrun(id) for every timer: one batch.
static int tc_read_values(pid_t pid, const int32_t *ids, int32_t count, struct tc_timer_values *out,
                          struct tc_inject_report *report, int use_worker, unsigned timeout_seconds,
                          int drop, uid_t uid, gid_t gid, int abandon_at) {
    enum { slot = 32 };  // struct itimerspec
    struct tc_call *calls = calloc((size_t)count * 2 + 1, sizeof *calls);
    int64_t *data = calloc((size_t)count + 1, slot);
    if (!calls || !data) {
        free(calls);
        free(data);
        memset(report, 0, sizeof *report);
        return tc_report_fail(report, TC_INJECT_WORKER, ENOMEM, 0);
    }
    for (int32_t i = 0; i < count; i++) {
        calls[2 * i].nr = SYS_timer_gettime;
        calls[2 * i].flags = TC_CALL_DATA_ARG(1);
        calls[2 * i].args[0] = (uint64_t)(int64_t)ids[i];
        calls[2 * i].args[1] = (uint64_t)i * slot;
        calls[2 * i + 1].nr = SYS_timer_getoverrun;
        calls[2 * i + 1].args[0] = (uint64_t)(int64_t)ids[i];
    }
    int rc = tc_batch(pid, calls, count * 2, data, (size_t)count * slot, report, use_worker, timeout_seconds,
                      drop, uid, gid, abandon_at);
    for (int32_t i = 0; i < count; i++) {
        struct tc_timer_values *v = &out[i];
        memset(v, 0, sizeof *v);
        v->id = ids[i];
        if (rc) continue;
        int64_t gettime = calls[2 * i].result, overrun = calls[2 * i + 1].result;
        if (gettime < 0) {
            v->gettime_errno = (int32_t)-gettime;
        } else {
            const int64_t *words = data + (size_t)i * 4;
            v->interval_sec = words[0]; v->interval_nsec = words[1];
            v->value_sec = words[2]; v->value_nsec = words[3];
        }
        if (overrun < 0) v->getoverrun_errno = (int32_t)-overrun;
        else v->overrun = (int32_t)overrun;
    }
    free(calls);
    free(data);
    return rc;
}

int tc_ptrace_read_timer_values(pid_t pid, const int32_t *ids, int32_t count, struct tc_timer_values *out,
                                struct tc_inject_report *report, int use_worker, unsigned timeout_seconds) {
    return tc_read_values(pid, ids, count, out, report, use_worker, timeout_seconds, 0, 0, 0, 0);
}

int tc_ptrace_read_timer_values_as(pid_t pid, const int32_t *ids, int32_t count, struct tc_timer_values *out,
                                   struct tc_inject_report *report, unsigned timeout_seconds, uid_t uid,
                                   gid_t gid) {
    return tc_read_values(pid, ids, count, out, report, 1, timeout_seconds, 1, uid, gid, 0);
}

int tc_ptrace_read_timer_values_abandoning(pid_t pid, const int32_t *ids, int32_t count,
                                           struct tc_timer_values *out, struct tc_inject_report *report,
                                           int abandon_at_step) {
    return tc_read_values(pid, ids, count, out, report, 1, 10, 0, 0, 0, abandon_at_step);
}

#else  // not x86-64: every entry point says so

static int tc_unsupported(struct tc_inject_report *report) {
    memset(report, 0, sizeof *report);
    report->stage = TC_INJECT_UNSUPPORTED_ARCH;
    return TC_INJECT_UNSUPPORTED_ARCH;
}

void tc_session_abandon_at(int step) { (void)step; }

struct tc_session *tc_session_open(pid_t pid, int require_frame, unsigned timeout_seconds,
                                   struct tc_inject_report *report) {
    (void)pid; (void)require_frame; (void)timeout_seconds;
    tc_unsupported(report);
    return NULL;
}
int tc_session_run(struct tc_session *s, struct tc_call *calls, int32_t count, void *data, size_t data_len) {
    (void)s; (void)calls; (void)count; (void)data; (void)data_len;
    return TC_INJECT_UNSUPPORTED_ARCH;
}
int tc_session_close(struct tc_session *s, struct tc_inject_report *report) {
    (void)s;
    return report ? tc_unsupported(report) : TC_INJECT_UNSUPPORTED_ARCH;
}
void tc_session_get_report(const struct tc_session *s, struct tc_inject_report *report) {
    (void)s;
    tc_unsupported(report);
}
int tc_inject_batch(pid_t pid, struct tc_call *calls, int32_t count, void *data, size_t data_len,
                    struct tc_inject_report *report, int use_worker, unsigned timeout_seconds) {
    (void)pid; (void)calls; (void)count; (void)data; (void)data_len; (void)use_worker; (void)timeout_seconds;
    return tc_unsupported(report);
}
int tc_thread_stop(pid_t tid, unsigned timeout_seconds, struct tc_inject_report *report) {
    (void)tid; (void)timeout_seconds;
    return tc_unsupported(report);
}
int tc_thread_resume(pid_t tid) { (void)tid; return 0; }
int tc_ptrace_read_timer_values(pid_t pid, const int32_t *ids, int32_t count, struct tc_timer_values *out,
                                struct tc_inject_report *report, int use_worker, unsigned timeout_seconds) {
    (void)pid; (void)ids; (void)count; (void)out; (void)use_worker; (void)timeout_seconds;
    return tc_unsupported(report);
}
int tc_ptrace_read_timer_values_as(pid_t pid, const int32_t *ids, int32_t count, struct tc_timer_values *out,
                                   struct tc_inject_report *report, unsigned timeout_seconds, uid_t uid,
                                   gid_t gid) {
    (void)uid; (void)gid;
    return tc_ptrace_read_timer_values(pid, ids, count, out, report, 1, timeout_seconds);
}
int tc_ptrace_read_timer_values_abandoning(pid_t pid, const int32_t *ids, int32_t count,
                                           struct tc_timer_values *out, struct tc_inject_report *report,
                                           int abandon_at_step) {
    (void)abandon_at_step;
    return tc_ptrace_read_timer_values(pid, ids, count, out, report, 1, 10);
}

#endif
