/// The outcome of one restore, printed by `restore` (human or `--json`).
public struct RestoreReport: Sendable {
    public var kernel: String
    /// The strategy actually used (auto resolved).
    public var strategy: RestoreStrategy
    public var requestedStrategy: RestoreStrategy
    public var processID: Int32
    public var threadIDs: [Int32]
    public var syscalls = SyscallCounts()
    /// The timers the restored process has afterwards, read back from /proc.
    public var timers: [CheckpointTimer] = []
    public var error: RestoreFailure?
    /// Differences between /proc and the checkpoint (empty when verified).
    public var differences: [String] = []
    public var warnings: [String] = []
    /// Facts about what could not be restored (e.g. overruns on the host).
    public var notes: [String] = []
    public var wallNanoseconds: Int64 = 0
    /// The timerfds read back from the process's fdinfo; nil when the
    /// checkpoint has none read (a timer-criu/1 file).
    public var timerFDs: [CheckpointTimerFD]?
    /// The itimers read back by getitimer; nil when the checkpoint has none.
    public var itimers: CheckpointITimers?
    /// timerfd and itimer syscalls; nil when there were none to restore.
    public var timerFDSyscalls: TimerFDSyscallCounts?
    /// fds whose ticks no kernel interface could set (before 3.17).
    public var ticksNotRestored: Set<Int32> = []
    /// Timers whose time left and interval the checkpoint does not hold (a
    /// dump without --values): restored disarmed, and the table says why.
    public var valuesNotDumped: Set<Int32> = []

    public var ok: Bool { error == nil }

    public init(kernel: String, strategy: RestoreStrategy, requestedStrategy: RestoreStrategy,
                processID: Int32, threadIDs: [Int32]) {
        self.kernel = kernel
        self.strategy = strategy
        self.requestedStrategy = requestedStrategy
        self.processID = processID
        self.threadIDs = threadIDs
    }
}

/// Elapsed wall time on the monotonic clock, for reports.
public struct MonotonicClock: Sendable {
    let start = ContinuousClock.now
    public init() {}
    public var elapsed: Int64 {
        let d = start.duration(to: .now)
        return d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000
    }
}
