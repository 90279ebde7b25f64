#if canImport(Glibc)
import Glibc
#endif
import CTimerSyscalls
import TimerCore
import TimerFormats

/// One thing `timer-criu check` looks at on the host kernel.
public struct HostFeature: Sendable, Equatable {
    /// Stable name, the `name` of `check --json`.
    public var name: String
    public var ok: Bool
    /// Why it is ok or missing, one line.
    public var detail: String
    /// What needs it: "dump", "dump --values", "restore", ... For an optional
    /// feature, what is lost without it (the tool works in a lesser way).
    public var neededBy: String
    /// True when the tool cannot dump or restore without it (exit 1 if missing).
    public var required: Bool
    /// Numbers behind the verdict (e.g. "limit", "in_use"), for `--json`.
    public var values: [(key: String, value: Int64)]

    public static func == (a: HostFeature, b: HostFeature) -> Bool {
        a.name == b.name && a.ok == b.ok && a.detail == b.detail && a.neededBy == b.neededBy
            && a.required == b.required && a.values.map(\.key) == b.values.map(\.key)
            && a.values.map(\.value) == b.values.map(\.value)
    }
}

/// What the host kernel offers a checkpoint/restore of timers (like `criu check`).
public struct HostFeatureReport: Sendable {
    /// `uname -r`.
    public var kernelRelease: String
    public var features: [HostFeature]

    public subscript(name: String) -> HostFeature? { features.first { $0.name == name } }
    /// The required features that are missing.
    public var missing: [HostFeature] { features.filter { $0.required && !$0.ok } }
    /// Dump and restore can both work here (dump --values may not: ptrace is
    /// required by it alone, and is reported but does not decide this).
    public var ok: Bool { ["proc-timers", "sigpending"].allSatisfy { self[$0]?.ok ?? false } }
    /// What `restore --kernel host --strategy auto` uses here.
    public var restoreStrategy: RestoreStrategy { self["create-at-id"]?.ok == true ? .createAtID : .dance }
}

/// The probes behind `timer-criu check`. Each is harmless to the calling
/// process: whatever could change it (a timer on an alarm clock, a traced
/// process) happens in a forked child that is killed and reaped by its pid.
public enum HostFeatures {
    /// The Linux capability bits `check` reports (include/uapi/linux/capability.h).
    public static let CAP_WAKE_ALARM = 35
    public static let CAP_CHECKPOINT_RESTORE = 40

    /// Runs every probe. `procRoot` lets tests point /proc elsewhere.
    public static func probe(procRoot: String = "/proc") -> HostFeatureReport {
        let status = readStatus(procRoot: procRoot)
        return HostFeatureReport(kernelRelease: HostKernel.release, features: [
            procTimers(procRoot: procRoot),
            createAtID(),
            ptraceChild(),
            sigpending(status: status),
            capability(status: status, bit: CAP_CHECKPOINT_RESTORE, name: "cap-checkpoint-restore",
                       capName: "CAP_CHECKPOINT_RESTORE",
                       neededBy: "only the cursor sysctl, proposed in 2023 and never merged"),
            capability(status: status, bit: CAP_WAKE_ALARM, name: "cap-wake-alarm", capName: "CAP_WAKE_ALARM",
                       neededBy: "alarm-clock timers (clocks 8, 9)"),
            alarmClocks(),
        ])
    }

    // MARK: the probes

    /// /proc/self/timers: what dump reads and restore verifies with (docs/kernel-facts.md section 1).
    public static func procTimers(procRoot: String = "/proc") -> HostFeature {
        let needed = "dump, restore"
        do {
            let bytes = try ProcFS.readTimers(pid: getpid(), procRoot: procRoot)
            let timers = try ProcTimersParser.parse(bytes)
            return HostFeature(name: "proc-timers", ok: true,
                               detail: "/proc/self/timers readable (\(timers.count) timer(s) listed)",
                               neededBy: needed, required: true, values: [("timers", Int64(timers.count))])
        } catch {
            return HostFeature(name: "proc-timers", ok: false, detail: "\(error)", neededBy: needed, required: true,
                               values: [])
        }
    }

    /// prctl(PR_TIMER_CREATE_RESTORE_IDS, GET) in this process. GET only reads
    /// the per-process flag (it changes nothing), and execve cleared the flag
    /// when this tool started (docs/kernel-facts.md section 3), so no child is needed.
    public static func createAtID() -> HostFeature {
        let needed = "restore by create-at-id (else the dance)"
        let error: KernelErrno
        do {
            let result = try TimerSyscalls.restoreIDs(.get)
            return HostFeature(name: "create-at-id", ok: true,
                               detail: "prctl(PR_TIMER_CREATE_RESTORE_IDS, GET) = \(result): timer_create can take a wanted ID",
                               neededBy: needed, required: false, values: [("mode", Int64(result))])
        } catch let failure {
            error = failure
        }
        let why = error == .EINVAL ? "the kernel does not know this prctl (it needs Linux 6.15+)" : error.message
        return HostFeature(name: "create-at-id", ok: false,
                           detail: "prctl(PR_TIMER_CREATE_RESTORE_IDS, GET): \(error.name): \(why); restore falls back to the dance",
                           neededBy: needed, required: false, values: [])
    }

    /// PTRACE_SEIZE of a forked child, PTRACE_INTERRUPT, wait for the stop,
    /// PTRACE_DETACH, then SIGKILL to exactly that child. dump --values
    /// injects its syscalls through ptrace.
    public static func ptraceChild() -> HostFeature {
        let needed = "dump --values"
        let scope = ProcFS.yamaPtraceScope().map { Int64($0) }
        let scopeNote = scope.map { "; yama ptrace_scope = \($0)" + ($0 >= 1 ? " (tracing a non-child needs CAP_SYS_PTRACE)" : "") } ?? ""
        var values: [(key: String, value: Int64)] = []
        if let scope { values.append(("ptrace_scope", scope)) }
        let child = fork()
        if child == 0 {
            // Only async-signal-safe calls after fork in a threaded process.
            while true { pause() }
        }
        guard child > 0 else {
            return HostFeature(name: "ptrace", ok: false, detail: "fork: \(KernelErrno.current.name)",
                               neededBy: needed, required: true, values: values)
        }
        defer {
            _ = kill(child, SIGKILL)
            _ = ChildProcess.waitForChange(child, options: __WALL)
        }
        let PTRACE_SEIZE = 0x4206, PTRACE_INTERRUPT = 0x4207, PTRACE_DETACH = 17
        func failure(_ call: String) -> HostFeature {
            let error = KernelErrno.current
            var why = error.message
            if error == .EPERM {
                // A task has one tracer at most: a tracer of this tool that
                // follows forks (strace -f, gdb) already holds the child.
                if let tracer = ProcFS.status(pid: child)?.tracerPID, tracer != 0 {
                    let name = readFirstLine("/proc/\(tracer)/comm").map { " (\($0))" } ?? ""
                    why = "the child is already traced by pid \(tracer)\(name), and a process has one tracer at most: "
                        + "timer-criu runs under a tracer that follows forks (strace -f, a debugger)"
                    values.append(("tracer_pid", Int64(tracer)))
                } else {
                    why = "tracing is not allowed here (seccomp, yama or a missing capability)"
                }
            }
            return HostFeature(name: "ptrace", ok: false, detail: "\(call) of a child (pid \(child)): \(error.name): \(why)\(scopeNote)",
                               neededBy: needed, required: true, values: values)
        }
        guard tc_ptrace(PTRACE_SEIZE, child, nil, nil) == 0 else { return failure("PTRACE_SEIZE") }
        guard tc_ptrace(PTRACE_INTERRUPT, child, nil, nil) == 0 else { return failure("PTRACE_INTERRUPT") }
        guard ChildProcess.waitForChange(child, options: __WALL) != nil else { return failure("waitpid") }
        guard tc_ptrace(PTRACE_DETACH, child, nil, nil) == 0 else { return failure("PTRACE_DETACH") }
        return HostFeature(name: "ptrace", ok: true,
                           detail: "PTRACE_SEIZE, PTRACE_INTERRUPT and PTRACE_DETACH of a child (pid \(child)) allowed\(scopeNote)",
                           neededBy: needed, required: true, values: values)
    }

    /// RLIMIT_SIGPENDING and SigQ: every timer holds a preallocated sigqueue,
    /// counted per user, shared by all that user's processes (docs/kernel-facts.md section 2).
    public static func sigpending(status: ProcStatus?) -> HostFeature {
        let needed = "restore"
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(__RLIMIT_SIGPENDING.rawValue), &limit)  // RLIMIT_SIGPENDING (11)
        let soft = limit.rlim_cur == rlim_t.max ? Int64.max : Int64(limit.rlim_cur)
        var values: [(key: String, value: Int64)] = [("limit", soft)]
        let softText = soft == .max ? "unlimited" : String(soft)
        guard let inUse = status?.signalQueue?.queued else {
            return HostFeature(name: "sigpending", ok: true,
                               detail: "RLIMIT_SIGPENDING \(softText); SigQ not shown in /proc/self/status",
                               neededBy: needed, required: true, values: values)
        }
        values.append(("in_use", inUse))
        let free = soft == .max ? Int64.max : max(0, soft - inUse)
        values.append(("free", free))
        let line = "RLIMIT_SIGPENDING \(softText), SigQ \(inUse) in use (all of this user's processes), "
            + (soft == .max ? "no limit" : "\(free) left")
        return HostFeature(name: "sigpending", ok: free > 0,
                           detail: free > 0 ? line : line + ": timer_create would fail with EAGAIN",
                           neededBy: needed, required: true, values: values)
    }

    /// A bit of CapEff in /proc/self/status.
    public static func capability(status: ProcStatus?, bit: Int, name: String, capName: String,
                                  neededBy: String) -> HostFeature {
        guard let mask = status?.effectiveCapabilities, let hex = status?["CapEff"] else {
            return HostFeature(name: name, ok: false, detail: "CapEff not readable in /proc/self/status",
                               neededBy: neededBy, required: false, values: [])
        }
        let has = mask & (1 << UInt64(bit)) != 0
        return HostFeature(name: name, ok: has,
                           detail: "\(capName) (bit \(bit)) \(has ? "is" : "is not") in CapEff \(hex)",
                           neededBy: neededBy, required: false, values: [("bit", Int64(bit))])
    }

    /// timer_create on CLOCK_REALTIME_ALARM (8) with SIGEV_NONE in a forked
    /// child, which then exits: EOPNOTSUPP = no RTC, EPERM = no CAP_WAKE_ALARM
    /// (docs/kernel-facts.md section 4). In a child so the tool's own timer ID counter
    /// and timer list stay as they were.
    public static func alarmClocks() -> HostFeature {
        let needed = "alarm-clock timers (clocks 8, 9)"
        let child = fork()
        if child == 0 {
            // No allocation on this path: only the raw syscall and _exit after fork.
            do { _ = try TimerSyscalls.create(clock: .realtimeAlarm, notify: .none) } catch { _exit(error.rawValue & 0x7f) }
            _exit(0)
        }
        guard child > 0 else {
            return HostFeature(name: "alarm-clocks", ok: false, detail: "fork: \(KernelErrno.current.name)",
                               neededBy: needed, required: false, values: [])
        }
        let status = ChildProcess.waitForChange(child) ?? 0
        guard status & 0x7f == 0 else {
            return HostFeature(name: "alarm-clocks", ok: false, detail: "the probe child died by signal \(status & 0x7f)",
                               neededBy: needed, required: false, values: [])
        }
        let code = (status >> 8) & 0xff
        if code == 0 {
            return HostFeature(name: "alarm-clocks", ok: true,
                               detail: "timer_create(CLOCK_REALTIME_ALARM) works (an RTC and CAP_WAKE_ALARM are there)",
                               neededBy: needed, required: false, values: [])
        }
        let error = KernelErrno(rawValue: code)
        let why: String
        switch error {
        case .EOPNOTSUPP: why = "no RTC on this machine (alarm timers need one)"
        case .EPERM: why = "CAP_WAKE_ALARM is missing"
        case .EINVAL: why = "the kernel has no alarm timers"
        default: why = error.message
        }
        return HostFeature(name: "alarm-clocks", ok: false,
                           detail: "timer_create(CLOCK_REALTIME_ALARM): \(error.name): \(why)",
                           neededBy: needed, required: false, values: [("errno", Int64(code))])
    }

    // MARK: reading /proc/self/status

    /// PROC/self/status, nil when it cannot be read or parsed.
    public static func readStatus(procRoot: String = "/proc") -> ProcStatus? {
        try? ProcFS.status(procRoot + "/self")
    }

    static func readFirstLine(_ path: String) -> String? {
        SmallFile.read(path).map { String($0.split(separator: "\n").first ?? "") }
    }
}
