/// One timerfd of a checkpoint (`timerfds` in timer-criu/2, docs/format.md).
public struct CheckpointTimerFD: Hashable, Sendable {
    /// The fd number it had, and gets back.
    public var fd: Int32
    /// REALTIME, MONOTONIC, BOOTTIME, REALTIME_ALARM or BOOTTIME_ALARM.
    public var clockID: ClockID
    /// The open-file flags without the access mode (always O_RDWR for a
    /// timerfd): O_NONBLOCK 0x800 and O_CLOEXEC 0x80000 (= TFD_NONBLOCK,
    /// TFD_CLOEXEC), as fdinfo shows them.
    public var flags: UInt32
    /// timerfd_settime's flags: 1 = TFD_TIMER_ABSTIME, 2 = TFD_TIMER_CANCEL_ON_SET.
    public var settimeFlags: UInt32
    /// Expirations not read yet.
    public var ticks: UInt64
    /// Time LEFT at the dump (also for an absolute timer); 0 = disarmed, or a
    /// periodic timer that expired and was not forwarded (docs/kernel-facts.md 8).
    public var valueNanoseconds: Int64
    public var intervalNanoseconds: Int64

    public init(fd: Int32, clockID: ClockID, flags: UInt32, settimeFlags: UInt32, ticks: UInt64,
                valueNanoseconds: Int64, intervalNanoseconds: Int64) {
        self.fd = fd
        self.clockID = clockID
        self.flags = flags
        self.settimeFlags = settimeFlags
        self.ticks = ticks
        self.valueNanoseconds = valueNanoseconds
        self.intervalNanoseconds = intervalNanoseconds
    }

    public static let O_NONBLOCK: UInt32 = 0o4000
    public static let O_CLOEXEC: UInt32 = 0o2000000
    public static let O_ACCMODE: UInt32 = 0o3
    public static let TFD_TIMER_ABSTIME: UInt32 = 1
    public static let TFD_TIMER_CANCEL_ON_SET: UInt32 = 2

    /// The flags timerfd_create takes (TFD_NONBLOCK | TFD_CLOEXEC).
    public var createFlags: UInt32 { flags & (Self.O_NONBLOCK | Self.O_CLOEXEC) }
    public var isAbsolute: Bool { settimeFlags & Self.TFD_TIMER_ABSTIME != 0 }
    public var cancelsOnSet: Bool { settimeFlags & Self.TFD_TIMER_CANCEL_ON_SET != 0 }
    /// An interval but no value: expired and not forwarded since (fdinfo does
    /// not forward); restored armed with its interval, never disarmed.
    public var isUnforwardedPeriodic: Bool { valueNanoseconds == 0 && intervalNanoseconds != 0 }

    /// `"0x80800"`: the checkpoint's spelling of `flags`.
    public var flagsHex: String { "0x" + String(flags, radix: 16) }

    /// From the fdinfo of fd `fd`.
    public init(fd: Int32, info: TimerFDInfo) {
        self.init(fd: fd, clockID: info.clockID, flags: info.fileFlags & ~Self.O_ACCMODE,
                  settimeFlags: info.settimeFlags, ticks: info.ticks, valueNanoseconds: info.valueNanoseconds,
                  intervalNanoseconds: info.intervalNanoseconds)
    }

    /// Clocks timerfd_create accepts (fs/timerfd.c); anything else is EINVAL.
    public static func clockRefusal(_ clock: ClockID) -> String? {
        switch clock.rawValue {
        case 0, 1, 7, 8, 9: return nil
        default: return "\(clock.name), which timerfd_create refuses with EINVAL (it takes realtime, monotonic, boottime, realtime-alarm, boottime-alarm)"
        }
    }

    /// Clocks whose epoch is the same on every machine (wall-clock time), so
    /// an absolute deadline on them means the same instant after a restore.
    public static func epochSurvives(_ clock: ClockID) -> Bool {
        clock == .realtime || clock == .realtimeAlarm || clock == .tai
    }
}

/// The three interval timers of a process (`itimers` in timer-criu/2): only
/// the process can read them (getitimer), so they are there only with
/// `dump --values` or from a CRIU core image.
public struct CheckpointITimers: Hashable, Sendable {
    /// ITIMER_REAL (SIGALRM, what alarm() sets), on CLOCK_REALTIME's rate.
    public var real: TimerValue
    /// ITIMER_VIRTUAL (SIGVTALRM): user CPU time.
    public var virtual: TimerValue
    /// ITIMER_PROF (SIGPROF): user + system CPU time.
    public var prof: TimerValue

    public init(real: TimerValue = .disarmed, virtual: TimerValue = .disarmed, prof: TimerValue = .disarmed) {
        self.real = real
        self.virtual = virtual
        self.prof = prof
    }

    /// The `which` argument of setitimer/getitimer.
    public enum Which: Int32, CaseIterable, Sendable {
        case real = 0, virtual = 1, prof = 2
        public var name: String { ["real", "virtual", "prof"][Int(rawValue)] }
        public var kernelName: String { ["ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF"][Int(rawValue)] }
    }

    public subscript(which: Which) -> TimerValue {
        get { [real, virtual, prof][Int(which.rawValue)] }
        set {
            switch which {
            case .real: real = newValue
            case .virtual: virtual = newValue
            case .prof: prof = newValue
            }
        }
    }

    public var armedCount: Int { Which.allCases.filter { self[$0].isArmed }.count }
}

/// The clocks read once at the dump, right before the timerfds' fdinfo
/// (`clocks_at_dump` in timer-criu/2): an absolute timer's deadline is the
/// dump-time reading plus the time left, so a restore can keep it.
public struct DumpClocks: Hashable, Sendable {
    public var realtimeNanoseconds: Int64
    public var monotonicNanoseconds: Int64
    public var boottimeNanoseconds: Int64

    public init(realtimeNanoseconds: Int64, monotonicNanoseconds: Int64, boottimeNanoseconds: Int64) {
        self.realtimeNanoseconds = realtimeNanoseconds
        self.monotonicNanoseconds = monotonicNanoseconds
        self.boottimeNanoseconds = boottimeNanoseconds
    }

    /// The dump-time reading of `clock` (alarm clocks read as their base).
    public func reading(_ clock: ClockID) -> Int64? {
        switch clock.rawValue {
        case 0, 8: return realtimeNanoseconds
        case 1: return monotonicNanoseconds
        case 7, 9: return boottimeNanoseconds
        default: return nil
        }
    }
}

extension Checkpoint {
    /// Warnings for the timerfds and itimers that a restore cannot reproduce
    /// as they are (docs/format.md lists them). `sharedGroups`: fds that are
    /// one open file (kcmp KCMP_FILE said so: all timerfds share one anon
    /// inode, so `ino` cannot tell).
    public static func timerFDWarnings(_ timerFDs: [CheckpointTimerFD], sharedGroups: [[Int32]] = []) -> [String] {
        var warnings: [String] = []
        for group in sharedGroups where group.count > 1 {
            warnings.append("timerfds at fds \(group.map(String.init).joined(separator: ", ")) are one timer "
                + "(dup'ed or inherited): restored as \(group.count) separate timers")
        }
        for timerFD in timerFDs {
            let name = "timerfd \(timerFD.fd)"
            if timerFD.cancelsOnSet {
                warnings.append("\(name): TFD_TIMER_CANCEL_ON_SET: a clock_settime before the restore is not seen; "
                    + "the restored timer only cancels on later changes of the clock")
            }
            if timerFD.isAbsolute && !CheckpointTimerFD.epochSurvives(timerFD.clockID) && timerFD.valueNanoseconds != 0 {
                warnings.append("\(name): absolute timer on \(timerFD.clockID.name), whose epoch (boot) differs on "
                    + "the restoring machine: restored by its time left, re-based on that machine's clock")
            }
            let unrestored = timerFD.flags & ~(CheckpointTimerFD.O_NONBLOCK | CheckpointTimerFD.O_CLOEXEC)
            if unrestored != 0 {
                warnings.append("\(name): file flags 0x\(String(unrestored, radix: 16)) beyond O_NONBLOCK and "
                    + "O_CLOEXEC (set by fcntl) are not restored")
            }
            if timerFD.isUnforwardedPeriodic {
                warnings.append("\(name): periodic and expired but not forwarded (fdinfo shows value 0 and ticks "
                    + "\(timerFD.ticks)): its phase and missed expirations are unknown without --values; "
                    + "restored armed with its interval")
            }
        }
        return warnings
    }
}
