#!/usr/bin/env bash
# Runs the whole test suite under AddressSanitizer and ThreadSanitizer
# (docs/reliability.md), each with its own scratch path so the normal
# .build stays untouched.
#
#   Scripts/sanitizers.sh                 both, the whole suite
#   Scripts/sanitizers.sh address         only ASan
#   Scripts/sanitizers.sh thread FILTER   only TSan, only tests matching FILTER
#
# The executables the tests start (timer-criu, timer-fixture, timer-target)
# are built with the same sanitizer: BuiltProducts finds them next to the
# test bundle. A test that cannot run under a sanitizer skips itself and says
# why (it checks TIMER_CRIU_SANITIZER, which this script sets).
# Exit status: non-zero if any run failed. A summary line per sanitizer goes
# to stdout; full logs to .build-sanitize-*/test.log.
set -uo pipefail
cd "$(dirname "$0")/.."

sanitizers=(address thread)
if [[ $# -ge 1 ]]; then sanitizers=("$1"); shift; fi
filter=()
[[ $# -ge 1 ]] && filter=(--filter "$1")

status=0
for sanitizer in "${sanitizers[@]}"; do
    case $sanitizer in address|thread) ;; *) echo "usage: $0 [address|thread] [FILTER]" >&2; exit 64 ;; esac
    scratch=.build-sanitize-$sanitizer
    mkdir -p "$scratch"
    log=$scratch/test.log
    echo "sanitizers.sh: swift test --sanitize=$sanitizer (log: $log)" >&2
    # halt_on_error: the first report fails the run instead of scrolling by.
    # SWIFT_BACKTRACE=enable=no: on a trap, Swift's backtracer reads the
    # crashed process's memory, which ASan reports as a heap-buffer-overflow
    # and which then hangs the run; the sanitizer's own report is enough.
    TIMER_CRIU_SANITIZER=$sanitizer SWIFT_BACKTRACE=enable=no \
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:halt_on_error=1} \
    TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} \
        swift test --scratch-path "$scratch" --sanitize="$sanitizer" "${filter[@]}" >"$log" 2>&1
    rc=$?
    # XCTest's last summary line, and any sanitizer report.
    summary=$(grep -E "^\s*Executed [0-9]+ tests?" "$log" | tail -1 | sed 's/^\s*//')
    skipped=$(grep -cE "Test Case .* skipped" "$log")
    reports=$(grep -cE "^(==[0-9]+==ERROR: AddressSanitizer|WARNING: ThreadSanitizer)" "$log")
    echo "$sanitizer: exit $rc; ${summary:-no XCTest summary (build failed?)}; $skipped skipped; $reports sanitizer report(s)"
    [[ $rc -eq 0 && $reports -eq 0 ]] || status=1
done
exit $status
