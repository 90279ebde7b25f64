#if canImport(Glibc)
import Glibc
#endif
import TimerCore

/// Why `dump --values` could not read a process's timer values. Each case
/// prints as one line; `timer-criu` maps them to its exit codes.
public enum PtraceError: Error, Equatable, Sendable, CustomStringConvertible {
    /// PTRACE_SEIZE refused (EPERM/EACCES): not root and not the owner, Yama's
    /// ptrace_scope, a kernel thread, or another tracer already attached.
    case permissionDenied(pid: Int32, errno: KernelErrno, reason: String)
    /// There is no such process (ESRCH, or no /proc/PID).
    case noSuchProcess(pid: Int32)
    /// The process exited (or was killed) before or while its timers were read.
    case processExited(pid: Int32)
    /// An injected syscall failed inside the target, e.g.
    /// `timer_gettime(id=7): EINVAL: no such timer in process 1234`.
    case syscallFailed(pid: Int32, SyscallError)
    /// On every try a listed timer was deleted before its values were read
    /// (the process keeps creating and deleting timers).
    case timersKeptChanging(pid: Int32, timerID: Int32, attempts: Int)
    /// Only x86-64 tool builds and 64-bit targets are supported.
    case unsupportedArchitecture(pid: Int32, reason: String)
    /// Injecting is refused as unsafe for this target (seccomp), or a ptrace
    /// step failed in a way the other cases do not name; the target was put back.
    case injectionFailed(pid: Int32, reason: String)

    public var description: String {
        switch self {
        case let .permissionDenied(pid, errno, reason):
            return "ptrace(PTRACE_SEIZE, \(pid)): \(errno.name): \(reason)"
        case let .noSuchProcess(pid):
            return "no process with pid \(pid)"
        case let .processExited(pid):
            return "process \(pid) exited while its timer values were being read"
        case let .syscallFailed(pid, error):
            return "\(error) (in process \(pid))"
        case let .timersKeptChanging(pid, id, attempts):
            return "process \(pid): its timers kept changing: a listed timer (last ID \(id)) was deleted before its "
                + "values were read, on each of \(attempts) tries"
        case let .unsupportedArchitecture(pid, reason):
            return "cannot read timer values of process \(pid): \(reason)"
        case let .injectionFailed(pid, reason):
            return "cannot read timer values of process \(pid): \(reason)"
        }
    }
}
