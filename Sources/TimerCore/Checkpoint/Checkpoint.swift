/// A checkpoint in the `timer-criu/2` format (docs/format.md): the timers of
/// one process (POSIX timers, timerfds, interval timers), as `dump` writes
/// them and `restore` reads them. `timer-criu/1` files (POSIX timers only)
/// still load.
public struct Checkpoint: Hashable, Sendable {
    /// What this version writes.
    public static let formatName = "timer-criu/2"
    /// What it reads.
    public static let readableFormats = ["timer-criu/1", "timer-criu/2"]

    /// The format the checkpoint was read in (`timer-criu/2` for new ones);
    /// the JSON writer keeps it unless the checkpoint holds /2's fields.
    public var format: String
    /// The dumped process's pid (as seen from the dumper's pid namespace).
    public var pid: Int32
    /// `uname -r` of the kernel it was dumped on.
    public var kernel: String
    /// The process's thread ids at dump time, main thread first; used to map
    /// thread_id notify targets and per-thread CPU clocks onto a restored process.
    public var threads: [Int32]
    /// Sorted by `id`, ascending.
    public var timers: [CheckpointTimer]
    /// Timers that cannot be restored as they stand (see docs/format.md).
    public var warnings: [String]
    /// The process's timerfds by fd number; nil when not read (a timer-criu/1
    /// file, a saved /proc/PID/timers).
    public var timerFDs: [CheckpointTimerFD]? = nil
    /// Its interval timers; nil when not read (a dump without --values).
    public var itimers: CheckpointITimers? = nil
    /// Clocks read at the dump (absolute timerfds keep their deadline by it).
    public var dumpClocks: DumpClocks? = nil

    public init(pid: Int32, kernel: String, threads: [Int32], timers: [CheckpointTimer], warnings: [String] = [],
                format: String = Checkpoint.formatName) {
        self.format = format
        self.pid = pid
        self.kernel = kernel
        self.threads = threads
        self.timers = timers
        self.warnings = warnings
    }
}

/// One timer of a checkpoint.
public struct CheckpointTimer: Hashable, Sendable {
    public var id: Int32
    /// The raw clock id /proc shows (negative for CPU clocks).
    public var clockID: ClockID
    public var signal: Int32
    public var sigevValue: UInt64
    /// False when the dumping kernel printed a hashed pointer (4.15-4.x).
    public var sigevValueReliable: Bool
    public var notify: NotifyMode
    /// The pid (signal, none, thread) or tid (thread_id) notified.
    public var notifyTarget: Int32
    /// Time left at the dump (ns); nil when not dumped (plain dump from /proc).
    public var valueNanoseconds: Int64?
    /// Period (ns); nil when not dumped.
    public var intervalNanoseconds: Int64?
    /// Overrun count at the dump; nil when not dumped.
    public var overrun: Int32?
    /// A thread_id timer whose target thread had exited at dump time
    /// (`notify_target_exited` in JSON; restore applies --dead-thread-notify).
    public var notifyTargetExited: Bool = false

    public init(id: Int32, clockID: ClockID, signal: Int32, sigevValue: UInt64, sigevValueReliable: Bool = true,
                notify: NotifyMode, notifyTarget: Int32,
                valueNanoseconds: Int64? = nil, intervalNanoseconds: Int64? = nil, overrun: Int32? = nil) {
        self.id = id
        self.clockID = clockID
        self.signal = signal
        self.sigevValue = sigevValue
        self.sigevValueReliable = sigevValueReliable
        self.notify = notify
        self.notifyTarget = notifyTarget
        self.valueNanoseconds = valueNanoseconds
        self.intervalNanoseconds = intervalNanoseconds
        self.overrun = overrun
    }

    /// `sigev_value` as the checkpoint spells it: "0x" and 16 lowercase hex digits.
    public var sigevValueHex: String {
        let digits = String(sigevValue, radix: 16)
        return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
    }
}
