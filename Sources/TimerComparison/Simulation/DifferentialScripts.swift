import TimerCore
import TimerFormats
/// The simulate scripts that check the model against real kernels: the
/// differential test against the host (Tests/HostKernelTests/DifferentialTests.swift)
/// and the oracle on a booted Linux 6.1 (Scripts/kernel-oracle.sh, which gets
/// them from `simulate --generate`) run the same scripts, so a seed means the
/// same calls everywhere.
public enum DifferentialScripts {
    /// Each script stays far below RLIMIT_SIGPENDING (at most ~200 live timers).
    public static let defaultCalls = 160

    /// SplitMix64: the same seed gives the same script on every machine
    /// (Swift's own generator is seeded randomly per process).
    public struct SeededGenerator: RandomNumberGenerator {
        public var state: UInt64
        public init(state: UInt64) { self.state = state }
        public mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Clocks: valid ones, ones failing before the ID is taken (4, 5, 6, 10,
    /// 12+, FD clocks) and after (bad CPU clocks, alarms, pids that do not
    /// exist). pid 1 exists on every machine.
    public static let clocks: [Int32] = [
        0, 0, 0, 1, 1, 2, 3, 7, 11, -6, -2, -8, -7, -4, -3, -14, -16, -15,
        4, 5, 6, 8, 9, 10, 12, 15, 16, 100, -1, -5, -9, -10, -12, -13, -11,
        (~Int32(5_000_000) << 3) | 2, (~Int32(5_000_000) << 3) | 6,
    ]
    public static let signals: [Int32] = [1, 10, 14, 32, 40, 64, 0, -1, 65, 100]

    /// `calls` lines of creates (valid and failing clocks, NULL, valid and bad
    /// sigevents, `id=`), deletes, prctl toggles, settime (valid and negative
    /// values), gettime, getoverrun and cursor writes, for `--threads 2` or more.
    public static func random(seed: UInt64, calls: Int = defaultCalls) -> String {
        var rng = SeededGenerator(state: seed)
        var out = "# differential script, seed \(seed)\n"
        // IDs likely to be live: creates mostly get the next small numbers.
        var created: [Int32] = []
        func anyID() -> Int32 {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: return -1
            case 1: return Int32.max
            case 2: return Int32.random(in: 1000...1_000_000, using: &rng)
            case 3...5 where !created.isEmpty: return created.randomElement(using: &rng)!
            default: return Int32.random(in: 0...40, using: &rng)
            }
        }
        for _ in 0..<calls {
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<45:
                var line = "create clock=\(clocks.randomElement(using: &rng)!)"
                switch Int.random(in: 0..<10, using: &rng) {
                case 0..<3: break   // NULL sigevent
                case 3..<5: line += " notify=signal signal=\(signals.randomElement(using: &rng)!)"
                case 5: line += " notify=none signal=\(signals.randomElement(using: &rng)!)"
                case 6: line += " notify=thread signal=\(signals.randomElement(using: &rng)!)"
                case 7..<9:
                    let target = Int.random(in: 0..<5, using: &rng)
                    line += " notify=thread_id signal=\(signals.randomElement(using: &rng)!)"
                    line += target < 3 ? " tid=\(target)" : " target=\([0, 1, 5_000_000][target - 3 + Int.random(in: 0..<2, using: &rng)])"
                default:
                    line += " notify=\([3, 5, 6, 8, -1].randomElement(using: &rng)!) signal=10"
                }
                if line.contains("notify="), Int.random(in: 0..<4, using: &rng) != 0 {
                    line += " sival=0x\(String(rng.next(), radix: 16))"
                }
                if Int.random(in: 0..<2, using: &rng) == 0 { line += " id=\(anyID())" }
                out += line + "\n"
                created.append(Int32(created.count))
            case 45..<60:
                out += "delete id=\(anyID())\n"
            case 60..<70:
                out += "prctl restore-ids=\(["on", "on", "off", "off", "get"].randomElement(using: &rng)!)\n"
            case 70..<82:
                let value: Int64 = [0, 3_600_000_000_000, 7_200_000_000_123, -1][Int.random(in: 0..<4, using: &rng)]
                let interval: Int64 = [0, 0, 1_000_000_000, 999_999_999, -5][Int.random(in: 0..<5, using: &rng)]
                out += "settime id=\(anyID()) value_ns=\(value) interval_ns=\(interval)\n"
            case 82..<92:
                out += "gettime id=\(anyID())\n"
            case 92..<97:
                out += "getoverrun id=\(anyID())\n"
            default:
                out += "cursor id=\(anyID())\n"
            }
        }
        return out
    }

    /// The measured facts of docs/kernel-facts.md sections 2, 3 and 5 as one script
    /// (docs/model-kernel.md, "Measured vs assumed"), for `--threads 2`.
    public static let kernelFacts: String = {
        var lines = (-10...16).map { "create clock=\($0)" }
        lines += [
            "delete id=12345", "delete id=2", "create clock=0", "gettime id=3", "getoverrun id=3",
            "prctl restore-ids=get", "prctl restore-ids=on", "prctl restore-ids=get",
            "create clock=0 notify=none id=100", "create clock=0 notify=none id=5", "create clock=0 id=100",
            "create clock=0 id=-1", "create clock=4 id=-1", "create clock=0 notify=signal signal=0 id=200",
            "prctl restore-ids=off", "create clock=0",
            "prctl restore-ids=on", "create clock=1 notify=none id=2147483647", "prctl restore-ids=off",
            "create clock=1", "create clock=1",
            "create clock=0 notify=thread_id tid=1 signal=64", "create clock=0 notify=thread_id target=1 signal=10",
            "create clock=0 notify=thread_id tid=2 signal=65", "create clock=0 notify=5 signal=10",
            "create clock=0 notify=3 signal=10", "create clock=0 notify=none signal=-1",
            "create clock=0 notify=thread signal=32", "create clock=-14", "create clock=-16",
            "settime id=5 value_ns=-1", "settime id=5 value_ns=5 interval_ns=-1",
            "settime id=5 value_ns=3600000000000 interval_ns=1000000000", "gettime id=5",
            "settime id=5 value_ns=0 interval_ns=7", "gettime id=5", "settime id=999 value_ns=1",
            "cursor id=3", "prctl restore-ids=get",
        ]
        return "# the docs/kernel-facts.md scenario\n" + lines.joined(separator: "\n") + "\n"
    }()

    /// RLIMIT_SIGPENDING reached: run with the limit set to `limit` (and no
    /// other pending signal of the user). Every create then fails with EAGAIN
    /// before the ID is taken, except where the clock lookup (EINVAL,
    /// EOPNOTSUPP) or create-at-ID's negative wanted ID (EINVAL) comes first;
    /// a delete makes room for one more.
    public static func sigpending(limit: Int) -> String {
        var out = "# RLIMIT_SIGPENDING \(limit): run with --sigpending-limit \(limit)\n"
        for _ in 0..<limit { out += "create clock=monotonic notify=none\n" }
        out += """
            create clock=monotonic
            create clock=4
            create clock=10
            create clock=-1
            create clock=0 notify=signal signal=0
            create clock=0 notify=thread_id target=1 signal=10
            delete id=\(limit / 2)
            create clock=realtime notify=signal signal=40
            create clock=realtime
            prctl restore-ids=on
            create clock=0 id=-1
            create clock=0 id=7
            prctl restore-ids=off
            delete id=0
            delete id=1
            create clock=0 notify=signal signal=0
            create clock=boottime notify=none
            create clock=boottime notify=none
            gettime id=\(limit)
            settime id=\(limit) value_ns=3600000000000 interval_ns=1000000000
            gettime id=\(limit)

            """
        return out
    }

    /// Alarm clocks (8, 9) used: with an RTC and CAP_WAKE_ALARM they behave
    /// like realtime and boottime; without an RTC every create is EOPNOTSUPP
    /// after the ID is taken (the counter moves). For `--threads 2`.
    public static let alarms = """
        # alarm clocks: run with and without an RTC
        create clock=8
        create clock=9 notify=none
        create clock=8 notify=thread_id tid=1 signal=40 sival=0x1
        create clock=9 notify=signal signal=0
        create clock=9 notify=signal signal=64 sival=0xffffffffffffffff
        create clock=monotonic
        settime id=0 value_ns=3600000000000 interval_ns=1000000000
        gettime id=0
        settime id=1 value_ns=7200000000123
        gettime id=1
        settime id=1 value_ns=0
        gettime id=1
        settime id=0 value_ns=0 interval_ns=5
        gettime id=0
        settime id=2 value_ns=3600000000000 interval_ns=999999999
        gettime id=2
        getoverrun id=2
        delete id=2
        gettime id=2
        delete id=0
        create clock=realtime-alarm
        create clock=boottime-alarm notify=none
        settime id=4 value_ns=-1
        settime id=4 value_ns=5 interval_ns=-1

        """
}
