import XCTest
import Foundation
import TestSupport

/// The model against the real kernel (issue 3): seeded random scripts of
/// timer syscalls, run by the built binary with `simulate --kernel host` (a
/// fresh child process, raw syscalls) and with `--kernel linux-6.15`; every
/// line must be the same (gettime's time left excepted: real time passes, so
/// it only has to be a little less than the model's).
///
/// Reproduce a failure with the printed seed:
/// `TIMER_CRIU_DIFF_SEEDS=1234 swift test --filter DifferentialTests`.
final class DifferentialTests: XCTestCase {
    /// Each script stays far below RLIMIT_SIGPENDING (at most ~200 live timers).
    static let linesPerScript = 160
    static let threads = 2

    var seeds: [UInt64] {
        if let list = ProcessInfo.processInfo.environment["TIMER_CRIU_DIFF_SEEDS"] {
            return list.split(separator: ",").compactMap { UInt64($0) }
        }
        return Array(1...24)
    }

    func testRandomScriptsMatchTheHostKernel() throws {
        try requireHostCreateAtID()
        for seed in seeds {
            let script = Self.randomScript(seed: seed)
            try compare(script, label: "seed \(seed)")
        }
    }

    /// The measured facts of KERNEL-FACTS sections 2, 3 and 5 as one script.
    func testKernelFactsScenarioMatchesTheHostKernel() throws {
        try requireHostCreateAtID()
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
        try compare(lines.joined(separator: "\n") + "\n", label: "KERNEL-FACTS scenario")
    }

    // MARK: Running and comparing

    private func requireHostCreateAtID() throws {
        let probe = try runTimerCRIU(["simulate", "--kernel", "host", try writeScript("prctl restore-ids=get\n")])
        guard probe.status == 0 else {
            throw XCTSkip("simulate --kernel host does not run here: \(probe.stderr)")
        }
        guard probe.stdoutText == "0\n" else {
            throw XCTSkip("the host kernel has no PR_TIMER_CREATE_RESTORE_IDS (prctl answered \(probe.stdoutText)); the linux-6.15 model is for 6.15+")
        }
    }

    private func compare(_ script: String, label: String) throws {
        let path = try writeScript(script)
        let host = try runTimerCRIU(["simulate", "--kernel", "host", "--threads", "\(Self.threads)", path])
        let model = try runTimerCRIU(["simulate", "--kernel", "linux-6.15", "--threads", "\(Self.threads)", path])
        XCTAssertEqual(host.status, 0, "\(label): host run failed: \(host.stderr)")
        XCTAssertEqual(model.status, 0, "\(label): model run failed: \(model.stderr)")
        let calls = script.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        let hostLines = host.stdoutText.split(separator: "\n").map(String.init)
        let modelLines = model.stdoutText.split(separator: "\n").map(String.init)
        XCTAssertEqual(hostLines.count, calls.count, "\(label): host printed \(hostLines.count) lines for \(calls.count) calls")
        XCTAssertEqual(modelLines.count, calls.count, "\(label): model printed \(modelLines.count) lines for \(calls.count) calls")
        for (index, call) in calls.enumerated() where index < hostLines.count && index < modelLines.count {
            let h = hostLines[index], m = modelLines[index]
            if h == m || Self.sameGettime(call: call, host: h, model: m) { continue }
            if h == "EAGAIN" && m != "EAGAIN" {
                throw XCTSkip("\(label): the host hit RLIMIT_SIGPENDING (other processes of this user hold timers)")
            }
            XCTFail("""
                \(label): call \(index + 1) `\(call)`: host says \(h), linux-6.15 model says \(m)
                script (\(path)):
                \(Self.numbered(script))
                """)
            return
        }
    }

    /// gettime of an armed timer: same interval, and the host's time left a
    /// little below the model's (real time passed; the model's stood still).
    static func sameGettime(call: Substring, host: String, model: String) -> Bool {
        guard call.hasPrefix("gettime") else { return false }
        let h = host.split(separator: " ").compactMap { Int64($0) }
        let m = model.split(separator: " ").compactMap { Int64($0) }
        guard h.count == 2, m.count == 2, h[1] == m[1], m[0] > 0 else { return false }
        return h[0] > 0 && h[0] <= m[0] && m[0] - h[0] < 30_000_000_000
    }

    static func numbered(_ script: String) -> String {
        script.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .map { "\($0.offset + 1): \($0.element)" }.joined(separator: "\n")
    }

    private func writeScript(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tc-diff-\(UUID().uuidString).txt")
        try Data(text.utf8).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    // MARK: The generator

    /// SplitMix64: the same seed gives the same script on every machine.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Clocks: valid ones, ones failing before the ID is taken (4, 5, 6, 10,
    /// 12+, FD clocks) and after (bad CPU clocks, alarms, pids that do not
    /// exist). pid 1 exists on both.
    static let clocks: [Int32] = [
        0, 0, 0, 1, 1, 2, 3, 7, 11, -6, -2, -8, -7, -4, -3, -14, -16, -15,
        4, 5, 6, 8, 9, 10, 12, 15, 16, 100, -1, -5, -9, -10, -12, -13, -11,
        (~Int32(5_000_000) << 3) | 2, (~Int32(5_000_000) << 3) | 6,
    ]
    static let signals: [Int32] = [1, 10, 14, 32, 40, 64, 0, -1, 65, 100]

    static func randomScript(seed: UInt64) -> String {
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
        for _ in 0..<linesPerScript {
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
}
