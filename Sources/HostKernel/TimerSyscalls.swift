#if canImport(Glibc)
import Glibc
#endif
import CTimerSyscalls
import TimerCore

/// The POSIX timer syscalls of the calling process, typed: one wrapper per
/// call over CTimerSyscalls' raw syscalls (glibc's timer_create would hide
/// the ID buffer create-at-ID mode reads, docs/kernel-facts.md section 3),
/// taking ClockID, a notify mode and TimerValue; a -1 becomes its errno.
/// HostKernel, Calibration, HostFeatures' probes and the test hooks make
/// their timer syscalls here.
public enum TimerSyscalls {
    /// timer_create(clock, sigevent, &id). `idBuffer` is what the kernel
    /// reads in create-at-ID mode; nil `sigevent` passes NULL (SIGEV_SIGNAL,
    /// SIGALRM, sival = the ID).
    @inline(__always)
    public static func create(clock: ClockID, sigevent: Sigevent?, idBuffer: Int32 = 0) throws(KernelErrno) -> Int32 {
        var id = idBuffer
        let result: Int
        if let sigevent {
            result = tc_timer_create(clock.rawValue, 1, sigevent.notify, sigevent.signal, sigevent.value,
                                     sigevent.threadID, &id)
        } else {
            result = tc_timer_create(clock.rawValue, 0, 0, 0, 0, 0, &id)
        }
        _ = try check(result)
        return id
    }

    /// timer_create with a sigevent of `notify` (signal 0, value 0: what a
    /// SIGEV_NONE probe passes).
    @inline(__always)
    public static func create(clock: ClockID, notify: NotifyMode, signal: Int32 = 0, idBuffer: Int32 = 0)
        throws(KernelErrno) -> Int32
    {
        try create(clock: clock, sigevent: Sigevent(notify, signal: signal), idBuffer: idBuffer)
    }

    /// timer_delete(id).
    @inline(__always)
    public static func delete(_ id: Int32) throws(KernelErrno) {
        _ = try check(tc_timer_delete(id))
    }

    /// timer_settime(id, absolute ? TIMER_ABSTIME : 0, value, &old): the old value.
    @inline(__always) @discardableResult
    public static func settime(_ id: Int32, absolute: Bool = false, _ value: TimerValue) throws(KernelErrno) -> TimerValue {
        var new = itimerspec(value)
        var old = itimerspec()
        _ = try check(tc_timer_settime(id, absolute ? TIMER_ABSTIME : 0, &new, &old))
        return TimerValue(old)
    }

    /// timer_gettime(id).
    public static func gettime(_ id: Int32) throws(KernelErrno) -> TimerValue {
        var current = itimerspec()
        _ = try check(tc_timer_gettime(id, &current))
        return TimerValue(current)
    }

    /// timer_getoverrun(id).
    public static func getoverrun(_ id: Int32) throws(KernelErrno) -> Int32 {
        Int32(try check(tc_timer_getoverrun(id)))
    }

    /// prctl(PR_TIMER_CREATE_RESTORE_IDS, op): the mode for GET (EINVAL before Linux 6.15).
    @inline(__always) @discardableResult
    public static func restoreIDs(_ op: RestoreIDsOperation) throws(KernelErrno) -> Int32 {
        Int32(try check(tc_prctl(PR_TIMER_CREATE_RESTORE_IDS, op.rawValue, 0, 0, 0)))
    }

    /// Turns a libc-style `-1 and errno` result into a typed errno.
    @inline(__always)
    static func check(_ result: Int) throws(KernelErrno) -> Int {
        if result < 0 { throw KernelErrno.current }
        return result
    }
}
