/// A POSIX clock id as the kernel stores it (docs/kernel-facts.md section 4).
/// Negative values are CPU clocks: `clock = (~pid << 3) | type`, bit 2 = per-thread.
public struct ClockID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var rawValue: Int32
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    public static let realtime = ClockID(0)
    public static let monotonic = ClockID(1)
    /// What timer_create passes; the kernel stores it as -6 (this process, SCHED).
    public static let processCPUTimeRequest = ClockID(2)
    /// What timer_create passes; the kernel stores it as -2 (calling thread, SCHED).
    public static let threadCPUTimeRequest = ClockID(3)
    public static let boottime = ClockID(7)
    public static let realtimeAlarm = ClockID(8)
    public static let boottimeAlarm = ClockID(9)
    public static let tai = ClockID(11)
    public static let processCPUTime = ClockID(-6)
    public static let threadCPUTime = ClockID(-2)

    public static func < (a: ClockID, b: ClockID) -> Bool { a.rawValue < b.rawValue }

    /// CPU clock type in the low two bits.
    public enum CPUClockType: Int32, Sendable { case prof = 0, virt = 1, sched = 2, fd = 3
        public var name: String { ["prof", "virt", "sched", "fd"][Int(rawValue)] }
    }

    public var isCPUClock: Bool { rawValue < 0 }
    /// `(id & 7) == 3`: a clock fd (dynamic POSIX clock); it has no timers.
    public var isFDClock: Bool { rawValue < 0 && (rawValue & 7) == 3 }
    /// For a CPU clock: the pid or tid it names (0 = the caller).
    public var cpuClockPID: Int32? { isCPUClock ? ~(rawValue >> 3) : nil }
    public var cpuClockIsPerThread: Bool { isCPUClock && (rawValue & 4) != 0 }
    public var cpuClockType: CPUClockType? { isCPUClock ? CPUClockType(rawValue: rawValue & 3) : nil }

    /// The highest pid/tid a CPU clock id can name: `~pid << 3` must fit an
    /// Int32, so 2^28 - 1. (pid_max is at most 2^22 = 4,194,304.) A larger
    /// pid would wrap onto another clock: 2147483647 onto clock 2.
    public static let maximumCPUClockPID: Int32 = (1 << 28) - 1

    /// Builds a CPU clock id naming `pid` (0 = the caller), which must be in
    /// 0...maximumCPUClockPID (names parsed from text are checked first).
    public static func cpuClock(pid: Int32, perThread: Bool, type: CPUClockType) -> ClockID {
        ClockID((~pid << 3) | (perThread ? 4 : 0) | type.rawValue)
    }

    /// The same CPU clock aimed at another pid/tid (restore into new pids).
    public func withCPUClockPID(_ pid: Int32) -> ClockID {
        guard isCPUClock else { return self }
        return ClockID((~pid << 3) | (rawValue & 7))
    }

    /// The clock the kernel stores for a clock passed to timer_create
    /// (2 becomes -6 and 3 becomes -2; everything else is stored as is).
    public var storedForm: ClockID {
        switch rawValue {
        case 2: return .processCPUTime
        case 3: return .threadCPUTime
        default: return self
        }
    }

    /// The readable name used in checkpoints: "realtime", "process-cputime",
    /// "cpu:pid=1:sched", "cpu:tid=7:prof", or "clock:N" for unknown ones.
    public var name: String {
        switch rawValue {
        case 0: return "realtime"
        case 1: return "monotonic"
        case 2: return "process-cputime-request"
        case 3: return "thread-cputime-request"
        case 4: return "monotonic-raw"
        case 5: return "realtime-coarse"
        case 6: return "monotonic-coarse"
        case 7: return "boottime"
        case 8: return "realtime-alarm"
        case 9: return "boottime-alarm"
        case 11: return "tai"
        case -6: return "process-cputime"
        case -2: return "thread-cputime"
        default:
            guard let pid = cpuClockPID, let type = cpuClockType else { return "clock:\(rawValue)" }
            if type == .fd { return "fd:\(pid)" }
            return "cpu:\(cpuClockIsPerThread ? "tid" : "pid")=\(pid):\(type.name)"
        }
    }

    public var description: String { "\(name) (\(rawValue))" }

    /// Parses a checkpoint clock name back (inverse of `name`), or a plain integer.
    public init?(name: String) {
        if let n = Int32(name) { self.init(n); return }
        let fixed: [String: Int32] = [
            "realtime": 0, "monotonic": 1, "boottime": 7, "realtime-alarm": 8,
            "boottime-alarm": 9, "tai": 11, "process-cputime": -6, "thread-cputime": -2,
            "monotonic-raw": 4, "realtime-coarse": 5, "monotonic-coarse": 6,
            "process-cputime-request": 2, "thread-cputime-request": 3,
        ]
        if let v = fixed[name] { self.init(v); return }
        if name.hasPrefix("clock:"), let v = Int32(name.dropFirst(6)) { self.init(v); return }
        // cpu:pid=N:type / cpu:tid=N:type
        let parts = name.split(separator: ":")
        guard parts.count == 3, parts[0] == "cpu" else { return nil }
        let who = parts[1].split(separator: "=")
        guard who.count == 2, who[0] == "pid" || who[0] == "tid", let pid = Int32(who[1]),
              (0...Self.maximumCPUClockPID).contains(pid) else { return nil }
        let types: [Substring: CPUClockType] = ["prof": .prof, "virt": .virt, "sched": .sched]
        guard let type = types[parts[2]] else { return nil }
        self = .cpuClock(pid: pid, perThread: who[0] == "tid", type: type)
    }
}
