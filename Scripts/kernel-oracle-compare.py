#!/usr/bin/env python3
"""The host half of Scripts/kernel-oracle.sh: reads what the booted Linux 6.1
guest printed (results-MODE.raw, sections "=== begin NAME" ... "=== stderr"
... "=== end NAME rc=N"), runs the same things on the linux-3.10 model here
and compares. One line per check, then exactly one closing line
"kernel-oracle: N passed, M failed" (exit 1 if M > 0)."""

import argparse
import json
import os
import subprocess
import sys
import time

MODES = {"no-rtc": [], "rtc": ["--rtc"]}
PROFILE = "linux-3.10"
THREADS = "2"
# Real time passes in the guest (emulated, so slowly); the model's stands still.
SLACK_NS = 60_000_000_000


def parse_results(path, timing):
    """{name: (stdout, stderr, rc)} of one boot; rc None if the guest never
    finished it. `timing` gets the guest's uptime at init and at the end, and
    each section's seconds."""
    sections, name, out, err, target = {}, None, [], [], None
    if not os.path.exists(path):
        return sections
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    for line in text.split("\n"):
        if line.startswith("=== mode ") or line.startswith("=== done at "):
            timing["init" if line.startswith("=== mode") else "done"] = float(line.rsplit(" ", 1)[1])
            continue
        if line.startswith("=== begin "):
            name, out, err, target = line[10:], [], [], "out"
        elif line == "=== stderr" and name:
            target = "err"
        elif line.startswith("=== end ") and name:
            sections[name] = ("\n".join(out), "\n".join(err).strip(), int(line.split("rc=", 1)[1].split()[0]))
            if "seconds=" in line:
                begin, end = line.split("seconds=", 1)[1].split("-")
                timing.setdefault("sections", {})[name] = float(end) - float(begin)
            name = None
        elif name:
            (out if target == "out" else err).append(line)
    if name:
        sections[name] = ("\n".join(out), "\n".join(err).strip(), None)
    return sections


def run_tool(tool, args):
    done = subprocess.run([tool] + args, capture_output=True, text=True, timeout=300)
    return done.stdout, done.stderr.strip(), done.returncode


def same_gettime(call, guest, model):
    """gettime of an armed timer: the same interval, the guest's time left a
    little below the model's (DifferentialTests.sameGettime)."""
    if not call.startswith("gettime"):
        return False
    try:
        g = [int(x) for x in guest.split()]
        m = [int(x) for x in model.split()]
    except ValueError:
        return False
    return (len(g) == 2 and len(m) == 2 and g[1] == m[1] and m[0] > 0
            and 0 < g[0] <= m[0] and m[0] - g[0] < SLACK_NS)


def compare_script(script_path, guest, model):
    calls = [l for l in open(script_path).read().split("\n")
             if l.strip() and not l.lstrip().startswith("#") and not l.startswith("sleep")]
    g_lines, m_lines = guest.split("\n") if guest else [], model.split("\n") if model else []
    g_lines = [l for l in g_lines if l != ""]
    m_lines = [l for l in m_lines if l != ""]
    for index, call in enumerate(calls):
        g = g_lines[index] if index < len(g_lines) else "(nothing)"
        m = m_lines[index] if index < len(m_lines) else "(nothing)"
        if g != m and not same_gettime(call, g, m):
            return f"call {index + 1} `{call}`: Linux 6.1 says {g}, the {PROFILE} model says {m}"
    if len(g_lines) != len(calls) or len(m_lines) != len(calls):
        return f"{len(calls)} calls, Linux 6.1 printed {len(g_lines)} lines, the model {len(m_lines)}"
    return None


def close_value(guest, model, interval):
    """A timer's time left read back after a restore (or a dump): 0 exactly
    where the model has 0; otherwise positive, and at most the model's
    (a periodic timer re-armed with its interval may read up to that)."""
    if model == 0:
        return guest == 0
    if guest <= 0:
        return False
    if interval > 0:
        return guest <= max(model, interval) + SLACK_NS
    return guest <= model and model - guest < SLACK_NS


def both_near(guest, host, interval):
    """Two dumps of the same fixture on two kernels, made at different
    moments: both disarmed or both armed, within the slack of each other."""
    return (guest == 0) == (host == 0) and abs(guest - host) < SLACK_NS


def normal_timers(report):
    """Timers with notify targets as thread indexes (pids differ)."""
    threads = report.get("threads", [])
    rows = []
    for t in report.get("timers", []):
        t = dict(t)
        target = t.get("notify_target")
        t["notify_target"] = f"thread{threads.index(target)}" if target in threads else f"raw:{target}"
        rows.append(t)
    return rows


def compare_timers(guest, model, values_match=close_value):
    g_rows, m_rows = normal_timers(guest), normal_timers(model)
    if [t["id"] for t in g_rows] != [t["id"] for t in m_rows]:
        return f"timer IDs {[t['id'] for t in g_rows]} on Linux 6.1, {[t['id'] for t in m_rows]} on the model"
    for g, m in zip(g_rows, m_rows):
        for key in sorted(set(g) | set(m)):
            if key == "value_ns":
                if not values_match(g.get(key, 0), m.get(key, 0), m.get("interval_ns", 0)):
                    return f"timer {g['id']}: value_ns {g.get(key)} on Linux 6.1, {m.get(key)} on the model"
            elif key == "overrun":
                continue  # the model sets overruns, no real kernel can (docs/kernel-facts.md section 6)
            elif g.get(key) != m.get(key):
                return f"timer {g['id']}: {key} {g.get(key)!r} on Linux 6.1, {m.get(key)!r} on the model"
    return None


def compare_restore(guest, model, guest_rc, model_rc):
    if guest_rc != model_rc:
        return f"exit code {guest_rc} on Linux 6.1, {model_rc} on the model"
    for key in ["ok", "strategy", "requested_strategy", "syscalls", "differences", "warnings", "notes"]:
        if guest.get(key) != model.get(key):
            return f"{key}: {guest.get(key)!r} on Linux 6.1, {model.get(key)!r} on the model"
    g_error, m_error = guest.get("error"), model.get("error")
    if (g_error is None) != (m_error is None):
        return f"error: {g_error!r} on Linux 6.1, {m_error!r} on the model"
    if g_error:
        g_message = g_error["message"].replace(guest["kernel"], "KERNEL")
        m_message = m_error["message"].replace(model["kernel"], "KERNEL")
        if g_error["code"] != m_error["code"] or g_message != m_message:
            return f"error: {g_error!r} on Linux 6.1, {m_error!r} on the model"
    return compare_timers(guest, model)


def main():
    parser = argparse.ArgumentParser()
    for option in ["tool", "work", "scripts", "guest-release", "accel", "rtc-scripts"]:
        parser.add_argument("--" + option, required=True)
    parser.add_argument("--sigpending-limit", type=int, required=True)
    parser.add_argument("--boot-seconds", type=float, required=True)
    parser.add_argument("--started", type=float, required=True)
    parser.add_argument("--built", type=float, required=True)
    args = parser.parse_args()

    passed, failed = 0, 0

    def verdict(name, problem):
        nonlocal passed, failed
        if problem:
            failed += 1
            print(f"FAIL  {name}: {problem}")
        else:
            passed += 1
            print(f"ok    {name}")

    kernels = json.loads(run_tool(args.tool, ["kernels", "--json"])[0])["kernels"]
    profile = next(k for k in kernels if k["name"] == PROFILE)
    model_auto = json.loads(run_tool(args.tool, ["restore", os.path.join(args.work, "host-checkpoint.json"),
                                                 "--kernel", PROFILE, "--json"])[0] or "{}").get("strategy")
    def order(name):  # seeds in numeric order, then the scenarios
        return (0, int(name[5:]), "") if name.startswith("seed-") else (1, 0, name)
    scripts = sorted((f[:-4] for f in os.listdir(args.scripts) if f.endswith(".sim")), key=order)

    timings = {}
    for mode, model_flags in MODES.items():
        timing = timings.setdefault(mode, {})
        results = parse_results(os.path.join(args.work, f"results-{mode}.raw"), timing)
        if not results:
            verdict(f"boot ({mode})", f"no results from the guest (see {args.work}/console-{mode}.log)")
            continue
        uname = results.get("uname", ("", "", None))[0].strip()
        verdict(f"boot ({mode})", None if uname == args.guest_release
                else f"the guest runs {uname!r}, not {args.guest_release}")

        # check: what the tool finds on 6.1 is what the model profile offers.
        out, err, rc = results.get("check-json", ("", "no result", None))
        try:
            report = json.loads(out)
            features = {f["name"]: f["ok"] for f in report["features"]}
            problem = None
            if rc != 0 or not report["ok"]:
                problem = f"exit {rc}, missing {report['missing']}"
            elif report["restore_strategy"] != model_auto:
                problem = f"auto would use {report['restore_strategy']}, the model's auto uses {model_auto}"
            elif features.get("create-at-id") != (profile["strategies"].get("create-at-id") == "works"):
                problem = f"create-at-id {features.get('create-at-id')}, the profile says {profile['strategies']}"
            elif features.get("alarm-clocks") != (mode == "rtc"):
                problem = f"alarm-clocks {features.get('alarm-clocks')} on a machine {'with' if mode == 'rtc' else 'without'} an RTC"
        except (ValueError, KeyError) as e:
            problem = f"unreadable check --json ({e}): {err}"
        verdict(f"check ({mode})", problem)

        names = scripts if mode == "no-rtc" else [s for s in scripts if s in args.rtc_scripts.split()]
        for name in names:
            path = os.path.join(args.scripts, name + ".sim")
            flags = model_flags + (["--sigpending-limit", str(args.sigpending_limit)] if name == "sigpending" else [])
            g_out, g_err, g_rc = results.get(name, ("", "no result", None))
            m_out, m_err, m_rc = run_tool(args.tool, ["simulate", "--kernel", PROFILE, "--threads", THREADS] + flags + [path])
            if g_rc != 0:
                verdict(f"{name} ({mode})", f"the guest's run failed (rc {g_rc}): {g_err}")
            elif m_rc != 0:
                verdict(f"{name} ({mode})", f"the model run failed (rc {m_rc}): {m_err}")
            else:
                verdict(f"{name} ({mode})", compare_script(path, g_out, m_out))

        if mode != "no-rtc":
            continue
        # The fixture: its dump on 6.1 against its dump on this host, then the
        # restores of the 6.1 dump on 6.1 against the same restores on the model.
        out, err, rc = results.get("dump", ("", "no result", None))
        checkpoint_text = results.get("checkpoint", ("", "", None))[0]
        guest_checkpoint = os.path.join(args.work, "guest-checkpoint.json")
        try:
            guest_dump = json.loads(checkpoint_text)
            with open(guest_checkpoint, "w") as f:
                f.write(checkpoint_text)
            host_dump = json.load(open(os.path.join(args.work, "host-checkpoint.json")))
            problem = (f"dump failed (rc {rc}): {err}" if rc != 0 else
                       compare_timers(guest_dump, host_dump, both_near) or
                       (None if guest_dump["warnings"] == host_dump["warnings"]
                        else f"warnings {guest_dump['warnings']} on 6.1, {host_dump['warnings']} here"))
            problem = problem and problem.replace("the model", f"Linux {os.uname().release}")
        except (ValueError, KeyError, OSError) as e:
            guest_dump = None
            problem = f"no checkpoint from the guest ({e}): {err} {results.get('fixture', ('', '', None))[0]}"
        verdict("dump --values of the fixture (6.1 vs this host)", problem)

        for strategy in ["dance", "create-at-id", "auto"]:
            name = f"restore-{strategy}"
            g_out, g_err, g_rc = results.get(name, ("", "no result", None))
            if guest_dump is None:
                verdict(f"{name} (no-rtc)", "no checkpoint to restore")
                continue
            m_out, m_err, m_rc = run_tool(args.tool, ["restore", guest_checkpoint, "--kernel", PROFILE,
                                                      "--strategy", strategy, "--json"])
            try:
                verdict(f"{name} (no-rtc)", compare_restore(json.loads(g_out), json.loads(m_out), g_rc, m_rc))
            except ValueError:
                verdict(f"{name} (no-rtc)", f"unreadable JSON (guest rc {g_rc}: {g_err}; model rc {m_rc}: {m_err})")

    now = time.time()
    total, after_build = now - args.started, now - args.built
    for mode, timing in timings.items():
        sections = timing.get("sections", {})
        simulate = [v for k, v in sections.items() if k in scripts]
        slowest = max(sections.items(), key=lambda kv: kv[1], default=("-", 0))
        if "init" in timing:
            print(f"figures: {mode} guest: init at {timing['init']:.1f} s, done at {timing.get('done', float('nan')):.1f} s "
                  f"(guest uptime); simulate {sum(simulate) / max(1, len(simulate)):.2f} s per script; "
                  f"slowest {slowest[0]} {slowest[1]:.1f} s")
    print(f"figures: Linux {args.guest_release} under QEMU ({args.accel}), 2 boots in "
          f"{args.boot_seconds:.1f} s, {after_build:.1f} s after the build ({total:.1f} s in all); the model: {PROFILE} on Linux {os.uname().release}")
    print(f"kernel-oracle: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
