/// One four-line block of /proc/PID/timers (docs/kernel-facts.md section 1).
public struct ProcTimer: Hashable, Sendable {
    /// How the kernel printed sigev_value; only `.padded` is the exact value on
    /// every kernel that prints it (4.15-4.x printed a hashed pointer).
    public enum SigevValueForm: Hashable, Sendable {
        /// `%px`: 16 zero-padded hex digits (current kernels).
        case padded
        /// Unpadded hex (kernels before 4.15).
        case unpadded
        /// `(null)`: pre-4.15 kernels' rendering of 0.
        case null
    }

    public var id: Int32
    /// Any int: SIGEV_NONE timers keep whatever was passed, even -1.
    public var signal: Int32
    public var sigevValue: UInt64
    public var sigevValueForm: SigevValueForm
    public var notify: NotifyMode
    /// The pid (KIND `pid`) or tid (KIND `tid`) after the dot.
    public var notifyTarget: Int32
    /// The clock as the kernel stored it (2 shows as -6, 3 as -2).
    public var clockID: ClockID

    public init(id: Int32, signal: Int32, sigevValue: UInt64, sigevValueForm: SigevValueForm = .padded,
                notify: NotifyMode, notifyTarget: Int32, clockID: ClockID) {
        self.id = id
        self.signal = signal
        self.sigevValue = sigevValue
        self.sigevValueForm = sigevValueForm
        self.notify = notify
        self.notifyTarget = notifyTarget
        self.clockID = clockID
    }
}
