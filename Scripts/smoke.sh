#!/usr/bin/env bash
# Smoke test: build, start timer-fixture with known timers, run
# `timer-criu dump` on it and check the checkpoint field by field.
# Usage: Scripts/smoke.sh [--scratch-path DIR]   (exit 0 = ok)
set -euo pipefail
cd "$(dirname "$0")/.."

scratch=()
if [ "${1:-}" = "--scratch-path" ]; then scratch=(--scratch-path "$2"); fi

swift build "${scratch[@]}" --product timer-criu >/dev/null
swift build "${scratch[@]}" --product timer-fixture >/dev/null
bin=$(swift build "${scratch[@]}" --show-bin-path)

work=$(mktemp -d)
fixture_pid=""
cleanup() {
  # Only the fixture this script started.
  if [ -n "$fixture_pid" ]; then kill -KILL "$fixture_pid" 2>/dev/null || true; wait "$fixture_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$bin/timer-fixture" \
  id=0,clock=realtime \
  id=7,clock=monotonic,notify=thread_id,signal=40,value=0xdeadbeefcafebabe,arm=30s,interval=1s \
  id=123456,clock=boottime,notify=none,signal=-1 \
  id=2147483647,clock=process-cputime,notify=thread,signal=34,value=0x8000000000000001 \
  >"$work/fixture.out" 2>"$work/fixture.err" &
fixture_pid=$!
for _ in $(seq 1 200); do
  grep -q '^ready ' "$work/fixture.out" && break
  kill -0 "$fixture_pid" 2>/dev/null || { echo "smoke: timer-fixture died: $(cat "$work/fixture.err")" >&2; exit 1; }
  sleep 0.05
done
grep -q "^ready $fixture_pid\$" "$work/fixture.out" || { echo "smoke: timer-fixture never got ready" >&2; exit 1; }
helper=$(awk '$1 == "thread" { print $2; exit }' "$work/fixture.out")

"$bin/timer-criu" dump "$fixture_pid" -o "$work/cp.json"

python3 - "$work/cp.json" "$fixture_pid" "$helper" "$(uname -r)" <<'PY'
import json, sys
path, pid, helper, release = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
cp = json.load(open(path))
def check(what, got, want):
    if got != want:
        sys.exit(f"smoke: {what}: got {got!r}, want {want!r}")
check("format", cp["format"], "timer-criu/2")
check("pid", cp["pid"], pid)
check("kernel", cp["kernel"], release)
check("threads", cp["threads"], [pid, helper])
check("warnings", cp["warnings"], [])
want = [
    dict(id=0, clock_id=0, clock="realtime", signal=14, sigev_value="0x0000000000000000", notify="signal", notify_target=pid),
    dict(id=7, clock_id=1, clock="monotonic", signal=40, sigev_value="0xdeadbeefcafebabe", notify="thread_id", notify_target=helper),
    dict(id=123456, clock_id=7, clock="boottime", signal=-1, sigev_value="0x0000000000000000", notify="none", notify_target=pid),
    dict(id=2147483647, clock_id=-6, clock="process-cputime", signal=34, sigev_value="0x8000000000000001", notify="thread", notify_target=pid),
]
check("timers", cp["timers"], want)
print(f"smoke: ok: dumped {len(cp['timers'])} timers of timer-fixture {pid} (IDs 0, 7, 123456, 2147483647)")
PY

# --- restore: every model profile x every strategy, then the host ----------
# A second fixture without ID 2147483647 (a model dance to INT_MAX is a
# release-build benchmark, not a smoke test), dumped with --values.
"$bin/timer-fixture" \
  id=0,clock=monotonic,signal=14,value=0x1111,arm=100s,interval=5s \
  id=7,clock=realtime,signal=40,value=0xdeadbeefcafe,arm=200s \
  id=99,clock=monotonic,notify=thread_id,signal=34,arm=50s,interval=1s \
  id=4096,clock=boottime,notify=none,signal=0 \
  >"$work/fixture2.out" 2>"$work/fixture2.err" &
fixture2_pid=$!
trap 'kill -KILL "$fixture2_pid" 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 200); do grep -q '^ready ' "$work/fixture2.out" && break; sleep 0.05; done
"$bin/timer-criu" dump "$fixture2_pid" --values -o "$work/cp2.json"
kill -KILL "$fixture2_pid"; wait "$fixture2_pid" 2>/dev/null || true

# kernel strategy expected-exit expected-strategy-used
failures=0
while read -r kernel strategy want used; do
  set +e
  out=$("$bin/timer-criu" restore "$work/cp2.json" --kernel "$kernel" --strategy "$strategy" --json 2>"$work/err")
  got=$?
  set -e
  got_used=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["strategy"])' 2>/dev/null || echo "?")
  if [ "$got" != "$want" ] || [ "$got_used" != "$used" ]; then
    echo "smoke: restore --kernel $kernel --strategy $strategy: exit $got (want $want), strategy $got_used (want $used)" >&2
    cat "$work/err" >&2
    failures=$((failures + 1))
  else
    echo "smoke: restore $kernel $strategy: exit $got as expected ($used)"
  fi
done <<'MATRIX'
linux-2.6 dance 1 dance
linux-2.6 cursor 1 cursor
linux-2.6 create-at-id 1 create-at-id
linux-2.6 auto 1 dance
linux-3.10 dance 0 dance
linux-3.10 cursor 1 cursor
linux-3.10 create-at-id 1 create-at-id
linux-3.10 auto 0 dance
linux-6.15 dance 0 dance
linux-6.15 cursor 1 cursor
linux-6.15 create-at-id 0 create-at-id
linux-6.15 auto 0 create-at-id
rfd-cursor dance 0 dance
rfd-cursor cursor 0 cursor
rfd-cursor create-at-id 1 create-at-id
rfd-cursor auto 0 cursor
rfd-dense dance 1 dance
rfd-dense cursor 1 cursor
rfd-dense create-at-id 0 create-at-id
rfd-dense auto 0 create-at-id
host dance 0 dance
host create-at-id 0 create-at-id
host cursor 1 cursor
MATRIX
[ "$failures" = 0 ] || { echo "smoke: $failures restore outcome(s) wrong" >&2; exit 1; }
echo "smoke: ok: restore matrix (5 model profiles x 4 strategies + host) as expected"
