#!/usr/bin/env bash
# Scripts/bench.sh [--quick]: the speed and memory figures of issue 7, each
# beside a reference measured in the same run (docs/performance.md).
#
#   1. dump of a live process with N timers vs `cat /proc/PID/timers`, and
#      parsing a saved copy alone vs a C sscanf parser (Scripts/bench/cparse.c)
#   2. the dance to ID 4,194,304: model vs this kernel, per create+delete pair
#   3. create-at-ID restore of N timers: model and host vs the bare syscall loop
#   4. peak memory of a model process holding 1,000,000 timers
#   5. a model dance to INT_MAX, and the host's time projected from item 2
#
# --quick: smaller counts (10,000 timers, dance to 262,144, 100,000 timers in
# memory, model dance to 2^27 projected to INT_MAX): about 15 s, for CI.
# Needs Linux 6.15+ (create-at-ID) and /proc/PID/timers; items 1 and 3 hold N
# real timers, so they wait until RLIMIT_SIGPENDING (shared by all processes
# of the user) has room. Timings are the best of several runs (the least
# disturbed by other load); the load average is printed with the results.
# BENCH_SCRATCH=DIR picks the build directory (default .build).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
case "${1:-}" in
    --quick) quick=1 ;;
    "") ;;
    *) echo "usage: Scripts/bench.sh [--quick]" >&2; exit 64 ;;
esac

if ((quick)); then
    timers=10000; dance_id=262144; memory_timers=100000; big_dance=134217728; runs=3
else
    timers=90000; dance_id=4194304; memory_timers=1000000; big_dance=2147483647; runs=5
fi
int_max=2147483647

scratch=${BENCH_SCRATCH:-.build}
echo "building (release, $scratch) ..." >&2
swift build -c release --scratch-path "$scratch" --product timer-criu >&2
swift build -c release --scratch-path "$scratch" --product timer-fixture >&2
swift build -c release --scratch-path "$scratch" --product timer-criu-bench >&2
bin=$(swift build -c release --scratch-path "$scratch" --show-bin-path)
tc=$bin/timer-criu
bench=$bin/timer-criu-bench
work=$(mktemp -d /tmp/timer-criu-bench.XXXXXX)
fixture_pid=
cleanup() {
    if [[ -n $fixture_pid ]]; then kill "$fixture_pid" 2>/dev/null || true; wait "$fixture_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
cc -O2 -o "$work/cparse" Scripts/bench/cparse.c

# Microseconds on the wall clock (bash 5: no fork).
usec() { local t=${EPOCHREALTIME/./}; echo $((10#$t)); }
# Best (smallest) wall time in microseconds of `runs` runs of a command, stdout discarded.
best_of() {
    local n=$1; shift
    local best= i t0 t1
    for ((i = 0; i < n; i++)); do
        t0=$(usec); "$@" >/dev/null; t1=$(usec)
        if [[ -z $best ]] || ((t1 - t0 < best)); then best=$((t1 - t0)); fi
    done
    echo "$best"
}
# The `key=` value of a timer-criu-bench result line.
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }
# Best `ns_per_op` of `runs` runs of a bench command.
best_ns() {
    local n=$1; shift
    local best= i line v
    for ((i = 0; i < n; i++)); do
        line=$("$bench" "$@")
        v=$(field ns_per_op "$line")
        if [[ -z $best ]] || awk -v a="$v" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$v; fi
    done
    echo "$best"
}
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }
sigq_free() { awk '/^SigQ:/ { split($2, q, "/"); print q[2] - q[1] }' /proc/self/status; }
wait_sigq() {
    local need=$1 waited=0
    while (($(sigq_free) < need + 100)); do
        ((waited == 0)) && echo "waiting for $need free signal queue entries ($(grep SigQ /proc/self/status))" >&2
        waited=1
        sleep 1
    done
}

rows=()
# row FIGURE VALUE REFERENCE RATIO TARGET MET
row() { rows+=("$(printf '%-44s|%-16s|%-26s|%-8s|%-10s|%s' "$@")"); }
met() { if awk "BEGIN { exit !($1) }"; then echo met; else echo "NOT MET"; fi; }
fmt_s() { calc "$1 / 1e6" 3; }   # microseconds -> seconds

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average before: $load_before" >&2

# --- 1. dump of a live process ------------------------------------------------
wait_sigq "$timers"
"$bin/timer-fixture" "count=$timers" >"$work/fixture.out" &
fixture_pid=$!
for ((i = 0; i < 600; i++)); do grep -q '^ready' "$work/fixture.out" && break; sleep 0.1; done
pid=$(sed -n 's/^ready //p' "$work/fixture.out")
[[ -n $pid ]] || { echo "timer-fixture did not start: $(cat "$work/fixture.out")" >&2; exit 1; }
cat "/proc/$pid/timers" >"$work/timers.txt"
"$tc" dump "$pid" >"$work/dump.json"
grep -c '^    {"id"' "$work/dump.json" | grep -qx "$timers" || { echo "dump did not list $timers timers" >&2; exit 1; }
cat_us= dump_us=
for ((r = 0; r < runs; r++)); do   # alternate, so both see the same load
    t=$(best_of 1 cat "/proc/$pid/timers"); [[ -z $cat_us ]] || ((t < cat_us)) && cat_us=$t
    t=$(best_of 1 "$tc" dump "$pid"); [[ -z $dump_us ]] || ((t < dump_us)) && dump_us=$t
done
kill "$fixture_pid"; wait "$fixture_pid" 2>/dev/null || true; fixture_pid=
ratio=$(calc "$dump_us / $cat_us")
row "1a dump PID, $timers live timers" "$(fmt_s "$dump_us") s" "cat /proc/PID/timers $(fmt_s "$cat_us") s" \
    "${ratio}x" "<= 1.25x" "$(met "$ratio <= 1.25")"
echo "1a dump: $(fmt_s "$dump_us") s, cat: $(fmt_s "$cat_us") s" >&2

size=$(stat -c %s "$work/timers.txt")
if "$tc" dump --help 2>&1 | grep -q -- --from-proc-file; then
    parse_cmd=("$tc" dump --from-proc-file "$work/timers.txt"); parse_name="dump --from-proc-file"
else
    parse_cmd=("$bench" parse-proc-file "$work/timers.txt"); parse_name="parse+JSON (bench; no --from-proc-file)"
fi
"${parse_cmd[@]}" >"$work/parsed.json"
grep -c '^    {"id"' "$work/parsed.json" | grep -qx "$timers" || { echo "$parse_name did not list $timers timers" >&2; exit 1; }
"$work/cparse" "$work/timers.txt" | grep -q "records=$timers " || { echo "cparse did not read $timers records" >&2; exit 1; }
parse_us= c_us=
for ((r = 0; r < runs; r++)); do
    t=$(best_of 1 "$work/cparse" "$work/timers.txt"); [[ -z $c_us ]] || ((t < c_us)) && c_us=$t
    t=$(best_of 1 "${parse_cmd[@]}"); [[ -z $parse_us ]] || ((t < parse_us)) && parse_us=$t
done
ratio=$(calc "$parse_us / $c_us")
row "1b $parse_name, $((size / 1000)) kB" "$(fmt_s "$parse_us") s" "C sscanf parser $(fmt_s "$c_us") s" \
    "${ratio}x" "<= 1x" "$(met "$ratio <= 1.0")"
echo "1b parse: $(fmt_s "$parse_us") s, C: $(fmt_s "$c_us") s" >&2

# --- 2. the dance ---------------------------------------------------------------
model_pair=$(best_ns 3 model-dance "$dance_id")
host_pair=$(best_ns 3 host-dance "$dance_id")
raw_pair=$(best_ns 3 raw-dance "$dance_id")
ratio=$(calc "$host_pair / $model_pair" 1)
row "2 dance to ID $dance_id, model, per pair" "$model_pair ns" "host $host_pair ns (raw $raw_pair)" \
    "${ratio}x" ">= 20x" "$(met "$ratio >= 20")"
echo "2 dance: model $model_pair ns/pair, host $host_pair ns/pair, raw loop $raw_pair ns/pair" >&2

# --- 3. create-at-ID restore --------------------------------------------------------
model_create=$(best_ns 3 model-create-at-id "$timers")
bare= host=
for ((r = 0; r < 3; r++)); do   # one process with N timers at a time
    wait_sigq "$timers"; v=$(best_ns 1 bare-create-at-id "$timers")
    [[ -z $bare ]] || awk -v a="$v" -v b="$bare" 'BEGIN { exit !(a < b) }' && bare=$v
    wait_sigq "$timers"; v=$(best_ns 1 host-create-at-id "$timers")
    [[ -z $host ]] || awk -v a="$v" -v b="$host" 'BEGIN { exit !(a < b) }' && host=$v
done
ratio=$(calc "$host / $bare")
row "3 create-at-ID, $timers timers, host, per timer" "$host ns" "bare syscall loop $bare ns" \
    "${ratio}x" "<= 2x" "$(met "$ratio <= 2")"
row "3 create-at-ID, $timers timers, model" "$model_create ns" "bare syscall loop $bare ns" \
    "$(calc "$model_create / $bare" 3)x" "-" "-"
echo "3 create-at-ID: model $model_create ns, host $host ns, bare $bare ns per timer" >&2

# --- 4. memory ---------------------------------------------------------------------
line=$("$bench" model-memory "$memory_timers")
per=$(field bytes_per_timer "$line")
row "4 model process with $memory_timers timers" "$per B/timer" \
    "peak RSS +$(calc "$(field peak_rss_delta "$line") / 1048576" 1) MiB" "-" "<= 150 B" "$(met "$per <= 150")"
echo "4 memory: $line" >&2

# --- 5. the dance to INT_MAX ---------------------------------------------------------
line=$("$bench" model-dance "$big_dance")
seconds=$(field seconds "$line")
projected=$(calc "$seconds * $int_max / $big_dance" 1)
host_hours=$(calc "$host_pair * $int_max / 1e9" 0)
if ((big_dance == int_max)); then name="5 model dance to INT_MAX"; value="$seconds s"
else name="5 model dance to $big_dance (x$((int_max / big_dance)) = INT_MAX)"; value="$projected s (proj.)"; fi
row "$name" "$value" "host ~${host_hours} s (projected)" "$(calc "$host_hours / $projected" 1)x" "< 90 s" \
    "$(met "$projected < 90")"
echo "5 $line" >&2

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "timer-criu bench$( ((quick)) && echo ' --quick'): $(uname -r), $(nproc) CPUs ($(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1))"
echo "load average: before $load_before, after $load_after"
printf '%-44s|%-16s|%-26s|%-8s|%-10s|%s\n' figure value reference ratio target met
for r in "${rows[@]}"; do echo "$r"; done
