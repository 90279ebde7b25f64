#!/usr/bin/env bash
# Kill the value reader at random points while it injects syscalls into a
# timer-target, then check the target is unharmed (docs/reliability.md).
#
# Usage: Scripts/kill-loop.sh [COUNT] [options]
#   COUNT                 kills per signal (default 10; the issue asks for 200)
#   --signals "KILL TERM INT"   which signals to send to the tool
#   --tool "CMD"          the reader to kill; {pid} and {ids} are replaced.
#                         Default: timer-target --read {pid} {ids} --repeat 20
#                         (the same C injector as TimerValueReader, run 20 times
#                         so most kills land during an injection). To kill the
#                         real CLI: --tool "timer-criu dump {pid} --values -o /dev/null"
#   --into                kill `timer-criu restore CKPT --into {pid}` instead: CKPT
#                         (timer-criu/2, written by the script) is 1,000 POSIX
#                         timers (IDs 1000-1999), 3 timerfds (fds 40-42) and
#                         ITIMER_REAL and ITIMER_VIRTUAL; every run gets a fresh
#                         target (the IDs must be free) holding a timerfd of its
#                         own at fd 7 and its own ITIMER_REAL (alarm). Every
#                         thread must end untraced and running, and the target
#                         must be exactly as before (fds, fdinfo of its own fds,
#                         POSIX timers, timerfds, itimers read by getitimer in
#                         it, through `timer-criu dump --values`) or hold all of
#                         CKPT: never half (Scripts/into-state.py; docs/restore-into.md,
#                         "What a killed tool can leave")
#   --in-process          pass --in-process to the default tool: trace from the
#                         tool itself, no forked worker (measures the bare window)
#   --target-args "..."   extra timer-target arguments (default "--threads 1")
#   --bin DIR             where timer-target is (default: swift build --show-bin-path)
#
# After every kill: the target must be untraced (TracerPid 0) and not stopped
# (State t/T) for 100 ms in a row within 5 s, must answer SIGUSR1 with its periodic
# signal count grown, checksum=ok, waiterrors=0 and spurious=0.
# Exit 0 when every check passed, 1 otherwise. One summary line per signal.
set -u
set -m  # job control: background jobs keep SIGINT (non-interactive bash would ignore it)

COUNT=10
SIGNALS="KILL TERM INT"
TOOL=""
IN_PROCESS=""
INTO=0
TARGET_ARGS="--threads 1"
BIN=""
while [ $# -gt 0 ]; do
    case "$1" in
        --signals) SIGNALS="$2"; shift 2 ;;
        --tool) TOOL="$2"; shift 2 ;;
        --in-process) IN_PROCESS="--in-process"; shift ;;
        --into) INTO=1; shift ;;
        --target-args) TARGET_ARGS="$2"; shift 2 ;;
        --bin) BIN="$2"; shift 2 ;;
        -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
        [0-9]*) COUNT="$1"; shift ;;
        *) echo "kill-loop: unknown argument $1" >&2; exit 64 ;;
    esac
done

cd "$(dirname "$0")/.."
if [ -z "$BIN" ]; then
    swift build --product timer-target >/dev/null || { echo "kill-loop: build failed" >&2; exit 1; }
    BIN=$(swift build --show-bin-path)
fi
TARGET_BIN="$BIN/timer-target"
[ -x "$TARGET_BIN" ] || { echo "kill-loop: no $TARGET_BIN" >&2; exit 1; }
WORK=$(mktemp -d -t kill-loop.XXXXXX)
if [ "$INTO" = 1 ]; then
    [ -x "$BIN/timer-criu" ] || swift build --product timer-criu >/dev/null || { echo "kill-loop: build failed" >&2; exit 1; }
    command -v python3 >/dev/null || { echo "kill-loop: --into needs python3 (Scripts/into-state.py)" >&2; exit 1; }
    {
        printf '{"format": "timer-criu/2", "pid": 4242, "kernel": "kill-loop", "threads": [4242], "timers": [\n'
        for id in $(seq 1000 1999); do
            [ "$id" -gt 1000 ] && printf ',\n'
            printf '{"id": %d, "clock_id": 1, "clock": "monotonic", "signal": 14, "sigev_value": "0x0000000000000000", "notify": "none", "notify_target": 4242, "value_ns": 60000000000, "interval_ns": 0, "overrun": 0}' "$id"
        done
        printf '\n], "timerfds": [\n'
        printf '{"fd": 40, "clock_id": 1, "clock": "monotonic", "flags": "0x0", "settime_flags": 0, "ticks": 0, "value_ns": 600000000000, "interval_ns": 1000000000},\n'
        printf '{"fd": 41, "clock_id": 7, "clock": "boottime", "flags": "0x800", "settime_flags": 0, "ticks": 0, "value_ns": 900000000000, "interval_ns": 0},\n'
        printf '{"fd": 42, "clock_id": 0, "clock": "realtime", "flags": "0x80800", "settime_flags": 0, "ticks": 0, "value_ns": 0, "interval_ns": 0}\n'
        # ITIMER_REAL periodic, unlike the target's own alarm, so the two differ.
        printf '], "itimers": {"real": {"value_ns": 1800000000000, "interval_ns": 900000000000}, '
        printf '"virtual": {"value_ns": 1800000000000, "interval_ns": 1000000000}, "prof": {"value_ns": 0, "interval_ns": 0}},\n'
        printf '"warnings": []}\n'
    } > "$WORK/into.json"
    TARGET_ARGS="$TARGET_ARGS --timerfd 7"
    [ -z "$TOOL" ] && TOOL="$BIN/timer-criu restore $WORK/into.json --into {pid}"
fi
[ -z "$TOOL" ] && TOOL="$TARGET_BIN --read {pid} {ids} --repeat 20 $IN_PROCESS"

TARGET_PID=""
MAIN_SHELL=$BASHPID
cleanup() {
    # Only the script itself: a forked child of it that a kill reaches before
    # its exec (a run killed within microseconds) would run this trap too.
    [ "$BASHPID" = "$MAIN_SHELL" ] || return 0
    [ -n "$TARGET_PID" ] && kill -KILL "$TARGET_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

start_target() {
    : > "$WORK/target.out"
    "$TARGET_BIN" --lifetime 3600 $TARGET_ARGS > "$WORK/target.out" 2>&1 &
    TARGET_PID=$!
    for _ in $(seq 400); do
        grep -q '^ready ' "$WORK/target.out" && break
        sleep 0.05
    done
    IDS=$(sed -n 's/^ready [0-9]* //p' "$WORK/target.out" | tr ' ' '\n' | sed 's/.*=//' | tr '\n' ' ')
    [ -n "$IDS" ] || { echo "kill-loop: timer-target did not start" >&2; exit 1; }
    LAST_SIGNALS=-1
    if [ "$INTO" = 1 ]; then
        snapshot "$WORK/before.json" || { echo "kill-loop: cannot read the target's state" >&2; exit 1; }
    fi
}

# The --into target's state (Scripts/into-state.py snapshot).
snapshot() {
    "$BIN/timer-criu" dump "$TARGET_PID" --values -o "$WORK/dump.json" > /dev/null 2> "$WORK/dump.err" \
        && python3 Scripts/into-state.py snapshot "$TARGET_PID" "$WORK/dump.json" "$1" 2>> "$WORK/dump.err"
    local rc=$?
    rm -f "$WORK/dump.json"
    return $rc
}

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< "$2"; }

proc_field() { sed -n "s/^$1:[[:space:]]*//p" "/proc/$TARGET_PID/status" 2>/dev/null | cut -c1; }

# Prints "" when the target is fine, else what is wrong.
check_target() {
    local tracer state lines line calm=0
    # The worker of a killed tool may still be starting (fork, then seize) or
    # injecting: wait until the target has been untraced and not stopped for
    # 10 reads in a row (100 ms), at most 5 s.
    for _ in $(seq 500); do
        [ -d "/proc/$TARGET_PID" ] || break
        tracer=$(sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$TARGET_PID/status" 2>/dev/null)
        state=$(proc_field State)
        if [ "$tracer" = "0" ] && [ "$state" != "t" ] && [ "$state" != "T" ]; then
            calm=$((calm + 1))
            [ "$calm" -ge 10 ] && break
        else
            calm=0
        fi
        sleep 0.01
    done
    [ -d "/proc/$TARGET_PID" ] || { echo "target died: $(tail -1 "$WORK/target.out")"; return; }
    local task
    for task in /proc/"$TARGET_PID"/task/*; do
        [ "$(sed -n 's/^TracerPid:[[:space:]]*//p' "$task/status" 2>/dev/null)" = "0" ] || { echo "thread ${task##*/} still traced"; return; }
        case "$(sed -n 's/^State:[[:space:]]*//p' "$task/status" 2>/dev/null | cut -c1)" in t|T) echo "thread ${task##*/} left stopped"; return ;; esac
    done
    [ "$state" = "Z" ] && { echo "target died (zombie)"; return; }
    [ "$tracer" = "0" ] || { echo "target still traced by $tracer after 5 s"; return; }
    case "$state" in t|T) echo "target left stopped (State $state) for 5 s"; return ;; esac
    lines=$(wc -l < "$WORK/target.out")
    line=""
    for _ in $(seq 10); do
        kill -USR1 "$TARGET_PID" 2>/dev/null
        for _ in $(seq 30); do
            sleep 0.01
            if [ "$(wc -l < "$WORK/target.out")" -gt "$lines" ]; then
                line=$(grep '^status ' "$WORK/target.out" | tail -1)
                break 2
            fi
        done
    done
    [ -n "$line" ] || { echo "target does not answer SIGUSR1 (State $(proc_field State), SigBlk $(sed -n 's/^SigBlk:[[:space:]]*//p' "/proc/$TARGET_PID/status"))"; return; }
    local signals checksum errors spurious
    signals=$(field signals "$line"); checksum=$(field checksum "$line")
    errors=$(field waiterrors "$line"); spurious=$(field spurious "$line")
    if [ "$checksum" != "ok" ] || [ "$errors" != "0" ] || [ "$spurious" != "0" ]; then echo "bad status: $line"; return; fi
    if [ "$signals" -le "$LAST_SIGNALS" ]; then echo "periodic timer stopped firing: $line"; return; fi
    LAST_SIGNALS=$signals
}

# --into: prints "untouched", "restored" or what is half (then returns 1).
into_outcome() {
    snapshot "$WORK/after.json" || { echo "cannot read its state: $(tail -1 "$WORK/dump.err")"; return 1; }
    python3 Scripts/into-state.py classify "$WORK/before.json" "$WORK/after.json" "$WORK/into.json"
}

now_us() { echo $(( $(date +%s%N) / 1000 )); }

FAILED=0
for SIG in $SIGNALS; do
    start_target
    CMD=${TOOL//\{pid\}/$TARGET_PID}
    CMD=${CMD//\{ids\}/$IDS}
    # How long one uninterrupted run takes (the shortest of 3): kills are spread uniformly over it.
    SPAN=""
    for _ in 1 2 3; do
        t0=$(now_us); $CMD > /dev/null 2>&1; t1=$(now_us)
        [ -z "$SPAN" ] || [ $(( t1 - t0 )) -lt "$SPAN" ] && SPAN=$(( t1 - t0 ))
        if [ "$INTO" = 1 ]; then
            kill -KILL "$TARGET_PID" 2>/dev/null; wait "$TARGET_PID" 2>/dev/null
            start_target
            CMD=${TOOL//\{pid\}/$TARGET_PID}
        fi
    done
    [ "$SPAN" -lt 1000 ] && SPAN=1000
    killed=0; finished=0; failures=0; untouched=0; restored=0
    signum=$(kill -l "$SIG")
    for i in $(seq "$COUNT"); do
        $CMD > /dev/null 2>&1 &
        tool=$!
        delay=$(( (RANDOM * 32768 + RANDOM) % SPAN ))
        sleep "$(printf '0.%06d' "$delay")"
        kill "-$SIG" "$tool" 2>/dev/null
        wait "$tool" 2>/dev/null
        rc=$?
        # restore --into exits 130 when SIGINT or SIGTERM stopped it (rolled back).
        if [ "$rc" -eq $(( 128 + signum )) ] || { [ "$INTO" = 1 ] && [ "$rc" -eq 130 ]; }; then
            killed=$((killed + 1))
        else
            finished=$((finished + 1))
        fi
        problem=$(check_target)
        if [ -z "$problem" ] && [ "$INTO" = 1 ]; then
            outcome=$(into_outcome)
            case "$outcome" in
                untouched) untouched=$((untouched + 1))
                           [ "$rc" -eq 0 ] && problem="the tool exited 0 but the target is untouched" ;;
                restored) restored=$((restored + 1)) ;;
                *) problem="$outcome" ;;
            esac
        fi
        if [ -z "$problem" ] && [ "$INTO" = 1 ]; then
            # A fresh target for the next run: the restored IDs must be free.
            kill -KILL "$TARGET_PID" 2>/dev/null; wait "$TARGET_PID" 2>/dev/null
            start_target
            CMD=${TOOL//\{pid\}/$TARGET_PID}
        fi
        if [ -n "$problem" ]; then
            failures=$((failures + 1))
            echo "SIG$SIG run $i (after ${delay} us): $problem" >&2
            kill -KILL "$TARGET_PID" 2>/dev/null; wait "$TARGET_PID" 2>/dev/null
            start_target
            CMD=${TOOL//\{pid\}/$TARGET_PID}
            CMD=${CMD//\{ids\}/$IDS}
        fi
    done
    outcomes=""
    [ "$INTO" = 1 ] && outcomes=" (untouched $untouched, fully restored $restored)"
    echo "SIG$SIG: $COUNT runs (one run ${SPAN} us), $killed killed mid-run, $finished finished first, $failures target failures$outcomes"
    [ "$failures" -eq 0 ] || FAILED=1
    kill -KILL "$TARGET_PID" 2>/dev/null; wait "$TARGET_PID" 2>/dev/null
    TARGET_PID=""
done
exit $FAILED
