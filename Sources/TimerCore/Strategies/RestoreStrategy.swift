/// The ways of getting a timer back at its ID (docs/kernel-facts.md section 3).
public enum RestoreStrategy: String, Sendable, CaseIterable {
    /// Create and delete until the counter reaches each wanted ID (CRIU until 2025).
    case dance
    /// Write the proposed timer ID cursor sysctl, then create (2023 proposal).
    case cursor
    /// prctl(PR_TIMER_CREATE_RESTORE_IDS) and create at the ID (Linux 6.15+).
    case createAtID = "create-at-id"
    /// The cheapest one the kernel offers: create-at-id, else cursor, else dance.
    case auto

    /// What `auto` picks on a kernel offering `interfaces`.
    public static func cheapest(offered interfaces: RestoreInterfaces) -> RestoreStrategy {
        if interfaces.contains(.createAtID) { return .createAtID }
        if interfaces.contains(.cursor) { return .cursor }
        return .dance
    }

    /// The concrete strategy used for `self` on a kernel offering `interfaces`.
    public func resolved(offered interfaces: RestoreInterfaces) -> RestoreStrategy {
        self == .auto ? Self.cheapest(offered: interfaces) : self
    }
}

/// Why creating the timers failed, in kernel terms.
public struct RestoreFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// Stable machine-readable kind, the `error.code` of reports.
    public enum Code: String, Sendable {
        /// The kernel lacks the strategy's interface.
        case strategyUnsupported = "strategy-unsupported"
        /// The dance saw an ID that was not the previous one + 1.
        case idsNotConsecutive = "ids-not-consecutive"
        /// A create returned another ID than the one asked for.
        case idStolen = "id-stolen"
        /// A syscall failed (its errno is in the message).
        case syscallFailed = "syscall-failed"
        /// The checkpoint cannot be mapped onto this process.
        case planRefused = "plan-refused"
        /// /proc after the restore does not match the checkpoint.
        case verificationFailed = "verification-failed"
        /// Stopped by SIGINT/SIGTERM or the caller.
        case interrupted
    }

    public var code: Code
    public var message: String
    /// The failing syscall, if one failed.
    public var syscallError: SyscallError?

    public init(_ code: Code, _ message: String, syscallError: SyscallError? = nil) {
        self.code = code
        self.message = message
        self.syscallError = syscallError
    }

    public var description: String { message }
}

/// Progress of a long restore (the dance to a high ID), and a way to stop it.
public struct RestoreControl {
    /// Called every `progressMask + 1` dance steps with (IDs passed, highest wanted ID).
    public var progress: ((_ done: Int64, _ total: Int64) -> Void)?
    /// Polled as often as `progress` is called; true stops the restore cleanly.
    public var isCancelled: (() -> Bool)?
    /// A power of two minus one: progress every (mask + 1) dance steps.
    public var progressMask: Int64 = (1 << 16) - 1
    /// Where the process's timer ID counter stands: 0 in a fresh process; in
    /// a live one (restore --into) the dance starts there (docs/kernel-facts.md section 3.1).
    public var counterStart: Int32 = 0

    public init(progress: ((Int64, Int64) -> Void)? = nil, isCancelled: (() -> Bool)? = nil) {
        self.progress = progress
        self.isCancelled = isCancelled
    }

    public static let none = RestoreControl()
}
