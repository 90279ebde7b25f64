/// How a timer notifies: the value of `sigev_notify` (docs/kernel-facts.md sections 1, 5).
public enum NotifyMode: String, Sendable, Hashable, CaseIterable {
    /// SIGEV_SIGNAL (0): a signal to the process.
    case signal
    /// SIGEV_NONE (1): nothing is delivered.
    case none
    /// SIGEV_THREAD (2) as passed to the raw syscall: delivered like a signal.
    case thread
    /// SIGEV_SIGNAL | SIGEV_THREAD_ID (4): a signal to one thread.
    case threadID = "thread_id"

    public static let SIGEV_THREAD_ID: Int32 = 4

    /// The raw `sigev_notify` value passed to timer_create.
    public var sigevNotify: Int32 {
        switch self {
        case .signal: return 0
        case .none: return 1
        case .thread: return 2
        case .threadID: return 4
        }
    }

    public init?(sigevNotify: Int32) {
        switch sigevNotify {
        case 0: self = .signal
        case 1: self = .none
        case 2: self = .thread
        case 4: self = .threadID
        default: return nil
        }
    }

    /// The `WHAT/KIND` the kernel prints in /proc/PID/timers' `notify:` line.
    public var procWhat: String {
        switch self {
        case .signal, .threadID: return "signal"
        case .none: return "none"
        case .thread: return "thread"
        }
    }
    public var procKind: String { self == .threadID ? "tid" : "pid" }
}

/// The `struct sigevent` a timer is created with (the fields the kernel reads).
public struct Sigevent: Hashable, Sendable {
    /// Raw `sigev_notify`; usually one of NotifyMode's values, but anything may be
    /// passed (the kernel answers EINVAL to the rest).
    public var notify: Int32
    public var signal: Int32
    /// sigev_value (sival_ptr / sival_int), 64 bits.
    public var value: UInt64
    /// sigev_notify_thread_id: read only with SIGEV_THREAD_ID.
    public var threadID: Int32

    public init(notify: Int32, signal: Int32, value: UInt64 = 0, threadID: Int32 = 0) {
        self.notify = notify
        self.signal = signal
        self.value = value
        self.threadID = threadID
    }

    public init(_ mode: NotifyMode, signal: Int32, value: UInt64 = 0, threadID: Int32 = 0) {
        self.init(notify: mode.sigevNotify, signal: signal, value: value, threadID: threadID)
    }

    public var mode: NotifyMode? { NotifyMode(sigevNotify: notify) }

    public static let SIGALRM: Int32 = 14
    public static let SIGRTMAX: Int32 = 64
}
