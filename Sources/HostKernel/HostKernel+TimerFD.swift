#if canImport(Glibc)
import Glibc
#endif
import CTimerSyscalls
import TimerCore
import TimerFormats

/// timerfds and itimers of the calling process, one raw syscall each.
extension HostKernel: TimerFDKernel {
    public func timerfdCreate(clock: ClockID, flags: UInt32) throws(KernelErrno) -> Int32 {
        Int32(try Self.check(tc_timerfd_create(clock.rawValue, Int32(bitPattern: flags))))
    }

    public func dup3(_ fd: Int32, to target: Int32, closeOnExec: Bool) throws(KernelErrno) {
        // dup2 clears FD_CLOEXEC on the new fd; dup3 with O_CLOEXEC keeps it.
        let result = closeOnExec ? tc_dup3(fd, target, O_CLOEXEC) : dup2(fd, target)
        _ = try Self.check(Int(result))
    }

    public func close(_ fd: Int32) throws(KernelErrno) {
        _ = try Self.check(Int(Glibc.close(fd)))
    }

    public func fdFlags(_ fd: Int32) throws(KernelErrno) -> Int32 { Int32(try Self.check(Int(tc_fd_flags(fd)))) }

    @discardableResult
    public func timerfdSettime(_ fd: Int32, flags: UInt32, _ value: TimerValue) throws(KernelErrno) -> TimerValue {
        var new = itimerspec(value)
        var old = itimerspec()
        _ = try Self.check(tc_timerfd_settime(fd, Int32(bitPattern: flags), &new, &old))
        return TimerValue(old)
    }

    public func timerfdGettime(_ fd: Int32) throws(KernelErrno) -> TimerValue {
        var current = itimerspec()
        _ = try Self.check(tc_timerfd_gettime(fd, &current))
        return TimerValue(current)
    }

    public func timerfdSetTicks(_ fd: Int32, _ ticks: UInt64) throws(KernelErrno) {
        _ = try Self.check(tc_timerfd_set_ticks(fd, ticks))
    }

    @discardableResult
    public func setitimer(_ which: CheckpointITimers.Which, _ value: TimerValue) throws(KernelErrno) -> TimerValue {
        var new = itimerval(it_interval: timeval(nanoseconds: value.intervalNanoseconds),
                            it_value: timeval(nanoseconds: value.valueNanoseconds))
        var old = itimerval()
        _ = try Self.check(Int(Glibc.setitimer(__itimer_which_t(UInt32(which.rawValue)), &new, &old)))
        return TimerValue(old)
    }

    public func getitimer(_ which: CheckpointITimers.Which) throws(KernelErrno) -> TimerValue {
        var current = itimerval()
        _ = try Self.check(Int(Glibc.getitimer(__itimer_which_t(UInt32(which.rawValue)), &current)))
        return TimerValue(current)
    }

    public func readFDInfo(_ fd: Int32) throws -> [UInt8] { try Self.readFile("/proc/\(processID)/fdinfo/\(fd)") }

    public func clockNow(_ clock: ClockID) -> Int64 { Self.clockNow(clock) }

    public func fdLimit() throws(KernelErrno) -> FDLimit { try Self.fdLimit(of: 0) }
    public func setFDLimit(_ limit: FDLimit) throws(KernelErrno) { try Self.setFDLimit(limit, of: 0) }

    /// prlimit64(pid, RLIMIT_NOFILE) read (pid 0: this process).
    public static func fdLimit(of pid: Int32) throws(KernelErrno) -> FDLimit {
        var old: (UInt64, UInt64) = (0, 0)
        let result = withUnsafeMutableBytes(of: &old) { tc_prlimit_nofile(pid, nil, $0.baseAddress!.assumingMemoryBound(to: UInt64.self)) }
        _ = try check(result)
        return FDLimit(soft: old.0, hard: old.1)
    }

    /// prlimit64(pid, RLIMIT_NOFILE) set (pid 0: this process).
    public static func setFDLimit(_ limit: FDLimit, of pid: Int32) throws(KernelErrno) {
        let new: (UInt64, UInt64) = (limit.soft, limit.hard)
        let result = withUnsafeBytes(of: new) { tc_prlimit_nofile(pid, $0.baseAddress!.assumingMemoryBound(to: UInt64.self), nil) }
        _ = try check(result)
    }

    /// clock_gettime(clock) of this machine, in ns.
    static func clockNow(_ clock: ClockID) -> Int64 {
        var ts = timespec()
        clock_gettime(clock.rawValue, &ts)
        return ts.nanoseconds
    }

    /// A small /proc file; throws its errno.
    static func readFile(_ path: String) throws -> [UInt8] {
        guard let bytes = SmallFile.readBytes(path) else { throw KernelErrno(rawValue: errno) }
        return bytes
    }
}

extension timeval {
    /// Microseconds: setitimer's unit (the nanoseconds below are dropped).
    init(nanoseconds: Int64) {
        self.init(tv_sec: Int(nanoseconds / 1_000_000_000), tv_usec: Int(nanoseconds % 1_000_000_000 / 1000))
    }
    var nanoseconds: Int64 { Int64(tv_sec) * 1_000_000_000 + Int64(tv_usec) * 1000 }
}

extension TimerValue {
    init(_ value: itimerval) {
        self.init(valueNanoseconds: value.it_value.nanoseconds, intervalNanoseconds: value.it_interval.nanoseconds)
    }
}
