#if canImport(Glibc)
import Glibc
#endif
import CTimerInject
import CTimerSyscalls
import TimerCore
import TimerFormats

/// What /proc/PID/timers does not show, read inside the process itself
/// (docs/kernel-facts.md sections 1 and 5b): the time left (relative, 0 = disarmed),
/// the interval (0 = one-shot) and the overrun count of the last expiry.
public struct DumpedTimerValues: Sendable, Hashable {
    public var valueNanoseconds: Int64
    public var intervalNanoseconds: Int64
    public var overrun: Int32
}

/// How one injection went: for tests, the kill loop and docs/dump-values.md.
public struct InjectionReport: Sendable, Hashable {
    /// How long the target ran with registers that were not its own (the only
    /// span in which the death of the injecting process would harm it).
    public var windowNanoseconds: Int64
    /// The `syscall` instruction (0f 05) used, in the target's vdso.
    public var syscallAddress: UInt64
    /// The struct itimerspec scratch area below the target's red zone.
    public var scratchAddress: UInt64
    /// The forked worker that did the tracing (0 when run in process).
    public var workerPID: Int32
    /// Stops other than our own syscall stops seen in the window.
    public var extraStops: Int32
    /// SIGSTOPs that arrived in the window and were sent again after the detach.
    public var redeliveredSignals: Int32
    /// The window was guarded by a rt_sigreturn frame: had the tracer died in
    /// it, the target would have put its own registers back (docs/dump-values.md).
    public var sigreturnFrame: Bool
    /// Batches run, one stop of the target each.
    public var batches: Int32 = 0
}

/// Reads timer values of a live process by ptrace syscall injection: seize,
/// interrupt, run timer_gettime and timer_getoverrun in a live thread of it
/// (the thread-group leader unless its main thread has exited), put registers, signal mask and scratch memory back, detach.
/// The step-by-step and every failure window are in docs/dump-values.md.
public enum TimerValueReader {
    /// Reads the values of `timerIDs` in process `pid`.
    /// - Throws: `PtraceError`; on every path the target is left running,
    ///   untraced, with its registers and memory as they were.
    public static func read(pid: Int32, timerIDs: [Int32]) throws(PtraceError) -> [Int32: DumpedTimerValues] {
        try readWithReport(pid: pid, timerIDs: timerIDs).values
    }

    /// Reads the values of every timer of `checkpoint` from its live process
    /// (`checkpoint.pid`) and stores them in the checkpoint (`dump --values`).
    public static func fillValues(of checkpoint: inout Checkpoint) throws(PtraceError) {
        let values = try read(pid: checkpoint.pid, timerIDs: checkpoint.timers.map(\.id))
        for index in checkpoint.timers.indices {
            guard let v = values[checkpoint.timers[index].id] else { continue }
            checkpoint.timers[index].valueNanoseconds = v.valueNanoseconds
            checkpoint.timers[index].intervalNanoseconds = v.intervalNanoseconds
            checkpoint.timers[index].overrun = v.overrun
        }
        // The values add warnings of their own (a 0 value with an interval, an overrun count).
        checkpoint.warnings = Checkpoint.warnings(pid: checkpoint.pid, threads: checkpoint.threads, timers: checkpoint.timers)
    }

    /// `read` plus how the injection went.
    /// - Parameter inProcess: trace from the calling thread instead of a forked
    ///   worker. Only for measuring the bare window (the kill loop's
    ///   `--in-process`): a SIGKILL of the caller mid-window harms the target.
    ///   Also chosen by TIMER_CRIU_PTRACE_IN_PROCESS=1.
    public static func readWithReport(
        pid: Int32, timerIDs: [Int32], inProcess: Bool = false, timeoutSeconds: UInt32 = 10
    ) throws(PtraceError) -> (values: [Int32: DumpedTimerValues], report: InjectionReport) {
        try read(pid: pid, timerIDs: timerIDs, inProcess: inProcess, timeoutSeconds: timeoutSeconds, asUser: nil)
    }

    /// Test hook: the worker drops to `user` (uid, gid) before seizing, as an
    /// unprivileged run of the tool would.
    public static func readAsUser(
        pid: Int32, timerIDs: [Int32], uid: UInt32, gid: UInt32
    ) throws(PtraceError) -> [Int32: DumpedTimerValues] {
        try read(pid: pid, timerIDs: timerIDs, inProcess: false, timeoutSeconds: 10, asUser: (uid, gid)).values
    }

    static func read(
        pid: Int32, timerIDs: [Int32], inProcess: Bool, timeoutSeconds: UInt32, asUser: (UInt32, UInt32)?
    ) throws(PtraceError) -> (values: [Int32: DumpedTimerValues], report: InjectionReport) {
        #if !arch(x86_64)
        throw .unsupportedArchitecture(pid: pid, reason: "syscall injection is implemented for x86-64 only")
        #else
        guard pid > 0 else { throw .noSuchProcess(pid: pid) }
        let status = ProcFS.status(pid: pid)
        guard let status else { throw .noSuchProcess(pid: pid) }
        // Timers belong to the thread group, so any live thread of it can
        // read them: the leader if it runs, else (its main thread called
        // pthread_exit, the leader shows Z) the first other live thread.
        let leader = status.threadGroup ?? pid
        guard let thread = ProcFS.liveThreads(pid: leader).first else { throw .processExited(pid: pid) }
        let threadStatus = thread == pid ? status : ProcFS.status(pid: thread)
        guard let threadStatus else { throw .processExited(pid: pid) }
        try checkSeccomp(pid: leader, status: threadStatus)
        let ids = timerIDs
        guard !ids.isEmpty else {
            return ([:], InjectionReport(windowNanoseconds: 0, syscallAddress: 0, scratchAddress: 0,
                                         workerPID: 0, extraStops: 0, redeliveredSignals: 0, sigreturnFrame: false))
        }
        let useInProcess = inProcess || TestHooks.injectInProcess
        var out = [tc_timer_values](repeating: tc_timer_values(), count: ids.count)
        var report = tc_inject_report()
        let stage: Int32 = ids.withUnsafeBufferPointer { idBuffer in
            out.withUnsafeMutableBufferPointer { outBuffer in
                if let (uid, gid) = asUser {
                    return tc_ptrace_read_timer_values_as(thread, idBuffer.baseAddress, Int32(ids.count),
                                                          outBuffer.baseAddress, &report, timeoutSeconds, uid, gid)
                }
                return tc_ptrace_read_timer_values(thread, idBuffer.baseAddress, Int32(ids.count),
                                                   outBuffer.baseAddress, &report, useInProcess ? 0 : 1, timeoutSeconds)
            }
        }
        if stage != Int32(TC_INJECT_OK.rawValue) {
            throw error(stage: stage, report: report, pid: leader, thread: thread)
        }
        var values: [Int32: DumpedTimerValues] = [:]
        for entry in out {
            if entry.gettime_errno != 0 {
                throw .syscallFailed(pid: leader, timerError("timer_gettime", entry.id, entry.gettime_errno, pid: leader))
            }
            if entry.getoverrun_errno != 0 {
                throw .syscallFailed(pid: leader, timerError("timer_getoverrun", entry.id, entry.getoverrun_errno, pid: leader))
            }
            values[entry.id] = DumpedTimerValues(
                valueNanoseconds: entry.value_sec * 1_000_000_000 + entry.value_nsec,
                intervalNanoseconds: entry.interval_sec * 1_000_000_000 + entry.interval_nsec,
                overrun: entry.overrun)
        }
        let summary = InjectionReport(
            windowNanoseconds: report.window_nanoseconds, syscallAddress: report.syscall_address,
            scratchAddress: report.scratch_address, workerPID: report.worker_pid,
            extraStops: report.extra_stops, redeliveredSignals: report.redelivered_signals,
            sigreturnFrame: report.sigreturn_frame != 0)
        return (values, summary)
        #endif
    }

    static func timerError(_ call: String, _ id: Int32, _ errno: Int32, pid: Int32) -> SyscallError {
        let code = KernelErrno(rawValue: errno)
        // docs/kernel-facts.md 5b: EINVAL = not a live timer of that process (deleted since the listing).
        let reason = code == .EINVAL ? "no such timer (deleted since it was listed?)" : nil
        return SyscallError(call, timerID: id, errno: code, reason: reason)
    }

    static func checkSeccomp(pid: Int32, status: ProcStatus) throws(PtraceError) {
        switch status.seccompMode {
        case 1:
            throw .injectionFailed(pid: pid, reason: "it runs in seccomp strict mode, where an injected timer_gettime would kill it")
        case 2:
            // A filter the tool does not share could answer our syscalls with
            // SIGSYS or a kill; filters inherited from a common ancestor are fine.
            let own = ProcFS.status(pid: getpid())?.seccompFilters ?? 0
            if let theirs = status.seccompFilters, theirs > own {
                throw .injectionFailed(pid: pid, reason: "it has its own seccomp filter (\(theirs) filters, the tool \(own)); an injected syscall could kill it")
            }
        default:
            break
        }
    }

    /// - Parameter thread: the thread injected into (the leader unless it has exited).
    static func error(stage: Int32, report: tc_inject_report, pid: Int32, thread: Int32? = nil) -> PtraceError {
        let errno = KernelErrno(rawValue: report.err)
        switch UInt32(stage) {
        case TC_INJECT_SEIZE.rawValue:
            if errno == .ESRCH { return .noSuchProcess(pid: pid) }
            if errno == .EPERM || errno == .EACCES {
                // The kernel answers EPERM for zombies and kernel threads too.
                if let status = ProcFS.status(pid: thread ?? pid) {
                    if status.hasExited { return .processExited(pid: pid) }
                    if status.isKernelThread == true { return .permissionDenied(pid: pid, errno: errno, reason: "a kernel thread cannot be traced (and has no timers)") }
                    if let tracer = status.tracerPID, tracer != 0 {
                        return .permissionDenied(pid: pid, errno: errno, reason: "already traced by pid \(tracer)")
                    }
                }
                return .permissionDenied(pid: pid, errno: errno, reason: permissionHint())
            }
            return .injectionFailed(pid: pid, reason: "PTRACE_SEIZE: \(errno.name): \(errno.message)")
        case TC_INJECT_EXITED.rawValue:
            return .processExited(pid: pid)
        case TC_INJECT_INTERRUPT.rawValue, TC_INJECT_WAIT.rawValue:
            if errno == .ESRCH || errno == KernelErrno(rawValue: ECHILD) { return .processExited(pid: pid) }
            let call = stage == Int32(TC_INJECT_INTERRUPT.rawValue) ? "PTRACE_INTERRUPT" : "waitpid"
            return .injectionFailed(pid: pid, reason: "\(call): \(errno.name): \(errno.message)")
        case TC_INJECT_NOT_X86_64.rawValue:
            return .unsupportedArchitecture(pid: pid, reason: "it runs 32-bit code (cs=0x\(String(report.detail, radix: 16))); only x86-64 processes are supported")
        case TC_INJECT_UNSUPPORTED_ARCH.rawValue:
            return .unsupportedArchitecture(pid: pid, reason: "syscall injection is implemented for x86-64 only")
        case TC_INJECT_NO_SYSCALL_INSN.rawValue:
            return .injectionFailed(pid: pid, reason: "no syscall instruction found in its vdso or code")
        case TC_INJECT_NO_SCRATCH.rawValue where report.err == 1:
            return .injectionFailed(pid: pid, reason: "its main thread stayed off its own stack (on an alternate signal stack or a coroutine stack) for 50 tries; left untouched")
        case TC_INJECT_NO_SCRATCH.rawValue where report.err == 2:
            return .injectionFailed(pid: pid, reason: "a batch of \(report.detail) bytes is more than the scratch mapping may hold")
        case TC_INJECT_NO_SCRATCH.rawValue where report.err == 3 || report.err == 4:
            return .injectionFailed(pid: pid, reason: "call \(report.detail) of the batch names \(report.err == 3 ? "an argument block beyond its data" : "no earlier call for its result argument"); nothing was run")
        case TC_INJECT_NO_SCRATCH.rawValue:
            return .injectionFailed(pid: pid, reason: "no room below the stack's red zone (rsp=0x\(String(report.detail, radix: 16)))")
        case TC_INJECT_PTRACE.rawValue:
            if errno == .ESRCH { return .processExited(pid: pid) }
            return .injectionFailed(pid: pid, reason: "\(ptraceRequestName(report.detail)): \(errno.name): \(errno.message); registers put back and detached")
        case TC_INJECT_MEMORY.rawValue:
            if errno == .ESRCH || errno == .ENOENT { return .processExited(pid: pid) }
            if errno == .EPERM || errno == .EACCES { return .permissionDenied(pid: pid, errno: errno, reason: permissionHint()) }
            return .injectionFailed(pid: pid, reason: "/proc/\(pid)/mem or maps: \(errno.name): \(errno.message)")
        case TC_INJECT_NO_FRAME.rawValue:
            return .injectionFailed(pid: pid, reason: noFrameReason(report.detail) + "; left untouched")
        case TC_INJECT_SCRATCH_MAP.rawValue:
            return .injectionFailed(pid: pid, reason: "mmap of the scratch mapping inside it failed: \(errno.name): \(errno.message); registers put back and detached")
        case TC_INJECT_RESUMED.rawValue:
            return .injectionFailed(pid: pid, reason: "it left the injected batch on its own after the 1 s wait (the tool was too slow to take it back); its own registers were put back by the safety frame")
        case TC_INJECT_TIMEOUT.rawValue:
            return .injectionFailed(pid: pid, reason: "it did not stop within \(report.detail) s (uninterruptible sleep, state D?); left untouched")
        case TC_INJECT_WORKER.rawValue:
            if report.err != 0 { return .injectionFailed(pid: pid, reason: "starting the ptrace worker: \(errno.name): \(errno.message)") }
            return .injectionFailed(pid: pid, reason: "the ptrace worker died (wait status 0x\(String(report.detail, radix: 16)))")
        default:
            return .injectionFailed(pid: pid, reason: "injection stage \(stage) failed")
        }
    }

    static func noFrameReason(_ reason: Int64) -> String {
        switch UInt32(reason) {
        case TC_NO_FRAME_SHADOW_STACK.rawValue:
            return "it uses a user shadow stack (x86_Thread_features: shstk), where the engine cannot build its rt_sigreturn safety frame"
        case TC_NO_FRAME_NO_RESTORER.rawValue:
            return "no signal restorer (mov $15,%rax; syscall) in its code for the rt_sigreturn safety frame"
        case TC_NO_FRAME_NO_XSTATE.rawValue:
            return "its FPU state cannot be read (PTRACE_GETREGSET NT_X86_XSTATE) for the rt_sigreturn safety frame"
        default:
            return "no room on its stack for the rt_sigreturn safety frame"
        }
    }

    static func permissionHint() -> String {
        var hint = "not allowed to trace it (run as root or as its owner"
        if let value = ProcFS.yamaPtraceScope(), value > 0 {
            hint += "; Yama ptrace_scope is \(value)"
        }
        return hint + ")"
    }

    static func ptraceRequestName(_ request: Int64) -> String {
        switch request {
        case 7: return "PTRACE_CONT"
        case 12: return "PTRACE_GETREGS"
        case 13: return "PTRACE_SETREGS"
        case 17: return "PTRACE_DETACH"
        case 24: return "PTRACE_SYSCALL"
        case 0x420a: return "PTRACE_GETSIGMASK"
        case 0x420b: return "PTRACE_SETSIGMASK"
        default: return "ptrace request \(request)"
        }
    }
}
