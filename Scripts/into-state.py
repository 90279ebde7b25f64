#!/usr/bin/env python3
"""The state of a restore --into target, for Scripts/kill-loop.sh --into.

  into-state.py snapshot PID DUMP.json OUT.json
      what the target holds: every fd (its link and its fdinfo without the
      lines that run on: pos, it_value), from `timer-criu dump PID --values`
      (DUMP.json) its POSIX timers, timerfds and itimers (getitimer made by
      the target), each without the time left, only whether it is armed.
  into-state.py classify BEFORE.json AFTER.json CHECKPOINT.json
      prints "untouched" (AFTER is BEFORE), "restored" (AFTER is BEFORE plus
      every POSIX timer and timerfd of CHECKPOINT, with its itimers), or
      "half: ..." naming what differs from both; exit 0, 0, 1.
"""
import json
import os
import sys


def timer(t):
    return {"id": t["id"], "clock_id": t["clock_id"], "signal": t["signal"], "notify": t["notify"],
            "interval_ns": t["interval_ns"], "armed": t["value_ns"] > 0}


def timerfd(t):
    return {"fd": t["fd"], "clock_id": t["clock_id"], "flags": t["flags"], "settime_flags": t["settime_flags"],
            "interval_ns": t["interval_ns"], "armed": t["value_ns"] > 0}


def itimers(value):
    value = value or {}
    return {w: {"interval_ns": value.get(w, {}).get("interval_ns", 0), "armed": value.get(w, {}).get("value_ns", 0) > 0}
            for w in ("real", "virtual", "prof")}


def snapshot(pid, dump_path, out_path):
    fds = {}
    for name in sorted(os.listdir(f"/proc/{pid}/fd"), key=int):
        link = os.readlink(f"/proc/{pid}/fd/{name}")
        with open(f"/proc/{pid}/fdinfo/{name}") as f:
            info = [line for line in f.read().splitlines() if not line.startswith(("pos:", "it_value:"))]
        fds[name] = {"link": link, "fdinfo": info}
    with open(dump_path) as f:
        dump = json.load(f)
    if "itimers" not in dump:
        sys.exit("into-state: the dump has no itimers (not read with --values?)")
    state = {"fds": fds,
             "timers": sorted((timer(t) for t in dump["timers"]), key=lambda t: t["id"]),
             "timerfds": sorted((timerfd(t) for t in dump.get("timerfds", [])), key=lambda t: t["fd"]),
             "itimers": itimers(dump["itimers"])}
    with open(out_path, "w") as f:
        json.dump(state, f, sort_keys=True)


def differences(expected, actual, checked_fdinfo):
    found = []
    if sorted(expected["fds"]) != sorted(actual["fds"]):
        found.append(f"fds {sorted(expected['fds'], key=int)} != {sorted(actual['fds'], key=int)}")
    for fd in checked_fdinfo:
        if fd in actual["fds"] and expected["fds"][fd] != actual["fds"][fd]:
            found.append(f"fd {fd}: {expected['fds'][fd]} != {actual['fds'][fd]}")
    for key in ("timers", "timerfds"):
        want = {json.dumps(t, sort_keys=True) for t in expected[key]}
        have = {json.dumps(t, sort_keys=True) for t in actual[key]}
        if want != have:
            found.append(f"{key}: {len(want - have)} missing or changed (e.g. {sorted(want - have)[:1]}), "
                         f"{len(have - want)} unexpected (e.g. {sorted(have - want)[:1]})")
    if expected["itimers"] != actual["itimers"]:
        found.append(f"itimers {expected['itimers']} != {actual['itimers']}")
    return found


def classify(before_path, after_path, checkpoint_path):
    with open(before_path) as f:
        before = json.load(f)
    with open(after_path) as f:
        after = json.load(f)
    with open(checkpoint_path) as f:
        checkpoint = json.load(f)
    # The target's own fds must be exactly as they were in both outcomes.
    untouched = differences(before, after, list(before["fds"]))
    if not untouched:
        print("untouched")
        return 0
    restored = json.loads(json.dumps(before))
    for t in checkpoint.get("timerfds", []):
        restored["fds"][str(t["fd"])] = {"link": "anon_inode:[timerfd]", "fdinfo": []}
    restored["timers"] += [timer(t) for t in checkpoint["timers"]]
    restored["timerfds"] += [timerfd(t) for t in checkpoint.get("timerfds", [])]
    if "itimers" in checkpoint:
        restored["itimers"] = itimers(checkpoint["itimers"])
    full = differences(restored, after, list(before["fds"]))
    if not full:
        print("restored")
        return 0
    print("half: " + "; ".join(full))
    return 1


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "snapshot":
        snapshot(*sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "classify":
        sys.exit(classify(*sys.argv[2:]))
    else:
        sys.exit(__doc__)
