/// A timer's time, as `struct itimerspec`, in nanoseconds.
public struct TimerValue: Hashable, Sendable {
    /// Time until the next expiry (it_value); 0 = disarmed.
    public var valueNanoseconds: Int64
    /// Period (it_interval); 0 = one-shot.
    public var intervalNanoseconds: Int64

    public init(valueNanoseconds: Int64, intervalNanoseconds: Int64) {
        self.valueNanoseconds = valueNanoseconds
        self.intervalNanoseconds = intervalNanoseconds
    }

    public static let disarmed = TimerValue(valueNanoseconds: 0, intervalNanoseconds: 0)
    public var isArmed: Bool { valueNanoseconds != 0 }
}

/// `prctl(PR_TIMER_CREATE_RESTORE_IDS, op)` (Linux 6.15, docs/kernel-facts.md section 3).
public enum RestoreIDsOperation: UInt, Sendable, CaseIterable {
    case off = 0, on = 1, get = 2
    public var name: String { ["off", "on", "get"][Int(rawValue)] }
}

/// The interfaces a kernel offers for restoring timer IDs.
public struct RestoreInterfaces: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// prctl(PR_TIMER_CREATE_RESTORE_IDS) create-at-ID (merged in 6.15).
    public static let createAtID = RestoreInterfaces(rawValue: 1)
    /// The proposed (never merged) timer ID cursor sysctl.
    public static let cursor = RestoreInterfaces(rawValue: 2)
}

/// What a restore needs from a kernel: the timer syscalls of one process, made
/// by that process. The model kernel and the host kernel implement it, so every
/// strategy is written once and cannot tell which kernel it runs on.
///
/// All calls throw the errno the real kernel returns, checked in the kernel's
/// order (docs/kernel-facts.md sections 2, 3, 5, 5b).
public protocol TimerKernel: AnyObject {
    /// E.g. "linux-6.15 (model)" or "host 6.18.44".
    var kernelName: String { get }
    /// What the kernel offers for restoring IDs (`auto` picks from this).
    var restoreInterfaces: RestoreInterfaces { get }
    /// The process the calls act on.
    var processID: Int32 { get }
    /// Its threads, the main thread (== processID) first.
    var threadIDs: [Int32] { get }

    /// timer_create(clock, sigevent or NULL, &id). In create-at-ID mode the
    /// kernel reads the wanted ID from `idBuffer`; otherwise it is ignored.
    func timerCreate(clock: ClockID, sigevent: Sigevent?, idBuffer: Int32) throws(KernelErrno) -> Int32
    /// timer_delete(id).
    func timerDelete(_ id: Int32) throws(KernelErrno)
    /// timer_settime(id, absolute ? TIMER_ABSTIME : 0, value, &old); returns old.
    @discardableResult
    func timerSettime(_ id: Int32, absolute: Bool, _ value: TimerValue) throws(KernelErrno) -> TimerValue
    /// timer_gettime(id): time left (relative) and interval.
    func timerGettime(_ id: Int32) throws(KernelErrno) -> TimerValue
    /// timer_getoverrun(id).
    func timerGetoverrun(_ id: Int32) throws(KernelErrno) -> Int32
    /// prctl(PR_TIMER_CREATE_RESTORE_IDS, op, 0, 0, 0): EINVAL before 6.15.
    @discardableResult
    func prctlRestoreIDs(_ op: RestoreIDsOperation) throws(KernelErrno) -> Int32
    /// A write of `id` to the proposed timer ID cursor sysctl: ENOENT where the
    /// kernel has none, EPERM without CAP_CHECKPOINT_RESTORE.
    func writeTimerIDCursor(_ id: Int32) throws(KernelErrno)
    /// The bytes of /proc/PID/timers for this process.
    func readProcTimers() throws -> [UInt8]
    /// Sets a timer's overrun count: no real kernel can (docs/kernel-facts.md section 6);
    /// returns false where it is not possible.
    func restoreOverrun(_ id: Int32, count: Int32) -> Bool
    /// Lets `nanoseconds` of the kernel's time pass: the model advances its
    /// virtual clock (firing timers); the host sleeps.
    func advanceTime(byNanoseconds nanoseconds: Int64)
    /// Makes `calls` in order; with `stopOnError` the calls after the first
    /// failure are not made (`.notRun`). `finally` is made in any case,
    /// afterwards. The same syscalls as the single calls, in the same order;
    /// the live-process kernel makes them all in one stop of the target.
    func perform(_ calls: [KernelCall], stopOnError: Bool, finally: [KernelCall])
        -> (results: [KernelCallResult], finally: [KernelCallResult])
}

extension TimerKernel {
    public func perform(_ calls: [KernelCall], stopOnError: Bool, finally: [KernelCall])
        -> (results: [KernelCallResult], finally: [KernelCallResult]) {
        performOneByOne(calls, stopOnError: stopOnError, finally: finally)
    }
}

extension TimerKernel {
    public func timerCreate(clock: ClockID, sigevent: Sigevent?) throws(KernelErrno) -> Int32 {
        try timerCreate(clock: clock, sigevent: sigevent, idBuffer: 0)
    }
}

/// Syscalls made, by kind (the `syscalls` object of restore reports).
/// Syscall counts by kind, as every report lists them: the same `text`,
/// `total` and sum for the timer syscalls and the timerfd/itimer ones
/// (and the one JSON face, `SyscallTally.json` in TimerFormats).
public protocol SyscallTally: Hashable, Sendable {
    init()
    /// The counters a report lists, in its order: the name it prints
    /// (`timer_create`) and where the count is kept.
    static var listed: [(name: String, count: WritableKeyPath<Self, Int>)] { get }
    /// Every counter, the listed ones and those that only read.
    static var all: [WritableKeyPath<Self, Int>] { get }
}

extension SyscallTally {
    public static var all: [WritableKeyPath<Self, Int>] { listed.map(\.count) }
    /// The listed calls added up.
    public var total: Int { Self.listed.reduce(0) { $0 + self[keyPath: $1.count] } }
    /// `timer_create 4, timer_delete 0, ...`.
    public var text: String { Self.listed.map { "\($0.name) \(self[keyPath: $0.count])" }.joined(separator: ", ") }
    public static func + (a: Self, b: Self) -> Self {
        var sum = a
        for count in all { sum[keyPath: count] += b[keyPath: count] }
        return sum
    }
}

public struct SyscallCounts: SyscallTally {
    public var timerCreate = 0
    public var timerDelete = 0
    public var timerSettime = 0
    public var timerGettime = 0
    public var timerGetoverrun = 0
    public var prctl = 0
    public var sysctlWrite = 0
    public init() {}
    /// The calls a restore makes; timer_gettime and timer_getoverrun, which
    /// only read, are counted but not listed (nor in `total`).
    public static let listed: [(name: String, count: WritableKeyPath<Self, Int>)] = [
        ("timer_create", \.timerCreate), ("timer_delete", \.timerDelete), ("timer_settime", \.timerSettime),
        ("prctl", \.prctl), ("sysctl_write", \.sysctlWrite),
    ]
    public static let all = listed.map(\.count) + [\.timerGettime, \.timerGetoverrun]
}

/// Counts every call into a kernel, whichever kernel it is: the one place where
/// restore reports' `syscalls` come from.
public final class CountingKernel<Base: TimerKernel>: TimerKernel {
    public let base: Base
    /// Not checked for exclusive access at run time: that check
    /// (swift_beginAccess) cost more than a model timer_create itself, 150 of
    /// the 474 instructions per create+delete pair of a dance through the
    /// Restorer (docs/performance.md). Only this class's own calls touch it.
    @exclusivity(unchecked) public private(set) var counts = SyscallCounts()
    /// The timerfd and itimer calls (when `Base` is a `TimerFDKernel`).
    public private(set) var timerFDCounts = TimerFDSyscallCounts()
    public init(_ base: Base) { self.base = base }

    public var kernelName: String { base.kernelName }
    public var restoreInterfaces: RestoreInterfaces { base.restoreInterfaces }
    public var processID: Int32 { base.processID }
    public var threadIDs: [Int32] { base.threadIDs }

    @inline(__always)
    public func timerCreate(clock: ClockID, sigevent: Sigevent?, idBuffer: Int32) throws(KernelErrno) -> Int32 {
        counts.timerCreate &+= 1
        return try base.timerCreate(clock: clock, sigevent: sigevent, idBuffer: idBuffer)
    }
    @inline(__always)
    public func timerDelete(_ id: Int32) throws(KernelErrno) {
        counts.timerDelete &+= 1
        try base.timerDelete(id)
    }
    @discardableResult
    public func timerSettime(_ id: Int32, absolute: Bool, _ value: TimerValue) throws(KernelErrno) -> TimerValue {
        counts.timerSettime += 1
        return try base.timerSettime(id, absolute: absolute, value)
    }
    public func timerGettime(_ id: Int32) throws(KernelErrno) -> TimerValue {
        counts.timerGettime += 1
        return try base.timerGettime(id)
    }
    public func timerGetoverrun(_ id: Int32) throws(KernelErrno) -> Int32 {
        counts.timerGetoverrun += 1
        return try base.timerGetoverrun(id)
    }
    @discardableResult
    public func prctlRestoreIDs(_ op: RestoreIDsOperation) throws(KernelErrno) -> Int32 {
        counts.prctl += 1
        return try base.prctlRestoreIDs(op)
    }
    public func writeTimerIDCursor(_ id: Int32) throws(KernelErrno) {
        counts.sysctlWrite += 1
        try base.writeTimerIDCursor(id)
    }
    public func readProcTimers() throws -> [UInt8] { try base.readProcTimers() }
    public func restoreOverrun(_ id: Int32, count: Int32) -> Bool { base.restoreOverrun(id, count: count) }
    public func advanceTime(byNanoseconds nanoseconds: Int64) { base.advanceTime(byNanoseconds: nanoseconds) }
    public func perform(_ calls: [KernelCall], stopOnError: Bool, finally: [KernelCall])
        -> (results: [KernelCallResult], finally: [KernelCallResult]) {
        let done = base.perform(calls, stopOnError: stopOnError, finally: finally)
        for (call, result) in zip(calls, done.results) where result.ran { count(call) }
        for call in finally { count(call) }
        return done
    }

    private func count(_ call: KernelCall) {
        switch call {
        case .timerCreate: counts.timerCreate &+= 1
        case .timerDelete: counts.timerDelete &+= 1
        case .timerSettime: counts.timerSettime &+= 1
        case .timerGettime: counts.timerGettime &+= 1
        case .timerGetoverrun: counts.timerGetoverrun &+= 1
        case .prctlRestoreIDs: counts.prctl &+= 1
        }
    }
}

/// The other two kinds of kernel timer of one process, made by that process:
/// timerfds (with the fd table they live in) and the three interval timers
/// (docs/kernel-facts.md section 8). The model, the host helper and a
/// live process reached by injection implement it; `TimerFDRestore` is
/// written once over it.
public protocol TimerFDKernel: TimerKernel {
    /// timerfd_create(clock, flags): the lowest free fd.
    func timerfdCreate(clock: ClockID, flags: UInt32) throws(KernelErrno) -> Int32
    /// dup3(fd, target, closeOnExec ? O_CLOEXEC : 0) (dup2 when not keeping
    /// O_CLOEXEC: dup2 clears it): an fd at a chosen number, create-at-ID for fds.
    func dup3(_ fd: Int32, to target: Int32, closeOnExec: Bool) throws(KernelErrno)
    /// close(fd).
    func close(_ fd: Int32) throws(KernelErrno)
    /// fcntl(fd, F_GETFD): the fd flags (FD_CLOEXEC or 0); EBADF for a free number.
    func fdFlags(_ fd: Int32) throws(KernelErrno) -> Int32
    /// timerfd_settime(fd, flags, value, &old); returns old.
    @discardableResult
    func timerfdSettime(_ fd: Int32, flags: UInt32, _ value: TimerValue) throws(KernelErrno) -> TimerValue
    /// timerfd_gettime(fd): time left and interval (forwards a periodic timer).
    func timerfdGettime(_ fd: Int32) throws(KernelErrno) -> TimerValue
    /// ioctl(fd, TFD_IOC_SET_TICKS, &ticks): Linux 3.17+ with CONFIG_CHECKPOINT_RESTORE.
    func timerfdSetTicks(_ fd: Int32, _ ticks: UInt64) throws(KernelErrno)
    /// setitimer(which, value, &old); returns old.
    @discardableResult
    func setitimer(_ which: CheckpointITimers.Which, _ value: TimerValue) throws(KernelErrno) -> TimerValue
    /// getitimer(which).
    func getitimer(_ which: CheckpointITimers.Which) throws(KernelErrno) -> TimerValue
    /// The bytes of /proc/PID/fdinfo/FD of this process.
    func readFDInfo(_ fd: Int32) throws -> [UInt8]
    /// clock_gettime(clock) in ns.
    func clockNow(_ clock: ClockID) -> Int64
    /// RLIMIT_NOFILE of this process: an fd must be below its soft limit.
    func fdLimit() throws(KernelErrno) -> FDLimit
    /// setrlimit/prlimit64(RLIMIT_NOFILE): raising the soft limit up to the
    /// hard one needs no privilege.
    func setFDLimit(_ limit: FDLimit) throws(KernelErrno)
    /// Makes `steps` in order, skipping the rest after a failed step that
    /// stops on error. The same syscalls as the single calls; the
    /// live-process kernel makes them all in one stop of the target.
    func performTimerFD(_ steps: [TimerFDStep]) -> [KernelCallResult]
}

extension TimerFDKernel {
    public func performTimerFD(_ steps: [TimerFDStep]) -> [KernelCallResult] { performTimerFDOneByOne(steps) }
}

/// RLIMIT_NOFILE: fds are below `soft`; `soft` may be raised up to `hard`.
public struct FDLimit: Hashable, Sendable {
    public var soft: UInt64
    public var hard: UInt64
    public init(soft: UInt64, hard: UInt64) {
        self.soft = soft
        self.hard = hard
    }
}

/// timerfd and itimer syscalls made, by kind (`timerfd_syscalls` of restore reports).
public struct TimerFDSyscallCounts: SyscallTally {
    public var timerfdCreate = 0
    /// dup2/dup3 placing an fd at its number.
    public var dup2 = 0
    public var close = 0
    public var timerfdSettime = 0
    /// ioctl(TFD_IOC_SET_TICKS).
    public var ioctl = 0
    public var setitimer = 0
    public init() {}
    public static let listed: [(name: String, count: WritableKeyPath<Self, Int>)] = [
        ("timerfd_create", \.timerfdCreate), ("dup2", \.dup2), ("close", \.close),
        ("timerfd_settime", \.timerfdSettime), ("ioctl", \.ioctl), ("setitimer", \.setitimer),
    ]
}

extension CountingKernel: TimerFDKernel where Base: TimerFDKernel {
    public func timerfdCreate(clock: ClockID, flags: UInt32) throws(KernelErrno) -> Int32 {
        timerFDCounts.timerfdCreate += 1
        return try base.timerfdCreate(clock: clock, flags: flags)
    }
    public func dup3(_ fd: Int32, to target: Int32, closeOnExec: Bool) throws(KernelErrno) {
        timerFDCounts.dup2 += 1
        try base.dup3(fd, to: target, closeOnExec: closeOnExec)
    }
    public func close(_ fd: Int32) throws(KernelErrno) {
        timerFDCounts.close += 1
        try base.close(fd)
    }
    public func fdFlags(_ fd: Int32) throws(KernelErrno) -> Int32 { try base.fdFlags(fd) }
    @discardableResult
    public func timerfdSettime(_ fd: Int32, flags: UInt32, _ value: TimerValue) throws(KernelErrno) -> TimerValue {
        timerFDCounts.timerfdSettime += 1
        return try base.timerfdSettime(fd, flags: flags, value)
    }
    public func timerfdGettime(_ fd: Int32) throws(KernelErrno) -> TimerValue { try base.timerfdGettime(fd) }
    public func timerfdSetTicks(_ fd: Int32, _ ticks: UInt64) throws(KernelErrno) {
        timerFDCounts.ioctl += 1
        try base.timerfdSetTicks(fd, ticks)
    }
    @discardableResult
    public func setitimer(_ which: CheckpointITimers.Which, _ value: TimerValue) throws(KernelErrno) -> TimerValue {
        timerFDCounts.setitimer += 1
        return try base.setitimer(which, value)
    }
    public func getitimer(_ which: CheckpointITimers.Which) throws(KernelErrno) -> TimerValue { try base.getitimer(which) }
    public func readFDInfo(_ fd: Int32) throws -> [UInt8] { try base.readFDInfo(fd) }
    public func clockNow(_ clock: ClockID) -> Int64 { base.clockNow(clock) }
    public func fdLimit() throws(KernelErrno) -> FDLimit { try base.fdLimit() }
    public func setFDLimit(_ limit: FDLimit) throws(KernelErrno) { try base.setFDLimit(limit) }
    public func performTimerFD(_ steps: [TimerFDStep]) -> [KernelCallResult] {
        let results = base.performTimerFD(steps)
        for (step, result) in zip(steps, results) where result.ran { timerFDCounts.count(step.call) }
        return results
    }
}
