import XCTest
import Foundation
import TestSupport
import TimerCore
import TimerFormats
import TimerComparison

/// The model against the real kernel: seeded random scripts of timer
/// syscalls, run by the built binary with `simulate --kernel host` (a fresh
/// child process, raw syscalls), with `simulate --into PID` (a fresh running
/// timer-fixture making them through injection, restore --into's kernel: the
/// same lines as the host child) and with `--kernel linux-6.15`; every
/// line must be the same (gettime's time left excepted: real time passes, so
/// it only has to be a little less than the model's).
///
/// Reproduce a failure with the printed seed:
/// `TIMER_CRIU_DIFF_SEEDS=1234 swift test --filter DifferentialTests`.
final class DifferentialTests: XCTestCase {
    static let linesPerScript = DifferentialScripts.defaultCalls
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

    /// The measured facts of docs/kernel-facts.md sections 2, 3 and 5 as one script.
    func testKernelFactsScenarioMatchesTheHostKernel() throws {
        try requireHostCreateAtID()
        try compare(DifferentialScripts.kernelFacts, label: "docs/kernel-facts.md scenario")
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
        // The third kernel: the same script made by a running process through injection.
        let target = try FixtureProcess(["--threads", "\(Self.threads)", "--block-signals"])
        defer { target.stop() }
        let live = try runTimerCRIU(["simulate", "--into", "\(target.pid)", "--threads", "\(Self.threads)", path])
        if live.status != 0 && live.stderr.contains("PTRACE_SEIZE") {
            throw XCTSkip("\(label): ptrace not permitted here: \(live.stderr)")
        }
        XCTAssertEqual(live.status, 0, "\(label): live-process run failed: \(live.stderr)")
        let calls = script.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        let hostLines = host.stdoutText.split(separator: "\n").map(String.init)
        let modelLines = model.stdoutText.split(separator: "\n").map(String.init)
        let liveLines = live.stdoutText.split(separator: "\n").map(String.init)
        XCTAssertEqual(liveLines.count, calls.count, "\(label): live process printed \(liveLines.count) lines for \(calls.count) calls")
        for (index, call) in calls.enumerated() where index < hostLines.count && index < liveLines.count {
            let h = hostLines[index], l = liveLines[index]
            // Both run on the real kernel: the same lines, gettime's time left within the same bound.
            if h == l || Self.sameGettime(call: call, host: l, model: h) || Self.sameGettime(call: call, host: h, model: l) { continue }
            if h == "EAGAIN" || l == "EAGAIN" {
                throw XCTSkip("\(label): RLIMIT_SIGPENDING reached (other processes of this user hold timers)")
            }
            XCTFail("""
                \(label): call \(index + 1) `\(call)`: host child says \(h), live process (injected) says \(l)
                script (\(path)):
                \(Self.numbered(script))
                """)
            break
        }
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

    /// The generator lives in TimerCore so that `simulate --generate SEED`
    /// (Scripts/kernel-oracle.sh) prints the very same scripts.
    static func randomScript(seed: UInt64) -> String {
        DifferentialScripts.random(seed: seed, calls: linesPerScript)
    }
}
