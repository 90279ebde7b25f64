import Foundation
import HostKernel
import TestSupport
import TimerCore
import TimerFormats
import TimerComparison
import XCTest

/// Killing `timer-criu restore --kernel host` half way:
/// with SIGINT, SIGTERM and SIGKILL, during a long dance and during
/// a slowed create-at-id, no helper process remains and nothing is left
/// traced. The helper is found BEFORE the signal as the tool's child (by
/// ppid in /proc/PID/stat, never by name) and checked by pid and start time.
final class RestoreInterruptTests: XCTestCase {
    var tools: [Process] = []
    var helpers: [(pid: Int32, start: String)] = []
    var files: [String] = []

    /// The test process's live children before the test: a child subreaper,
    /// it inherits whatever the tool leaves behind (see LeakedProcesses).
    var childrenBefore: Set<Int32> = []

    override func setUpWithError() throws {
        guard FileManager.default.isReadableFile(atPath: "/proc/self/timers") else {
            throw XCTSkip("host restore needs /proc/PID/timers (see `timer-criu check`)")
        }
        try LeakedProcesses.becomeSubreaper()
        childrenBefore = LeakedProcesses.liveChildren()
    }

    override func tearDown() {
        for tool in tools where tool.isRunning { kill(tool.processIdentifier, SIGKILL); tool.waitUntilExit() }
        for helper in helpers where Self.startTime(helper.pid) == helper.start { kill(helper.pid, SIGKILL) }
        for file in files { try? FileManager.default.removeItem(atPath: file) }
        tools = []; helpers = []; files = []
        super.tearDown()
    }

    // MARK: /proc helpers

    /// Field 22 of /proc/PID/stat (start time in ticks): with the pid it names
    /// one process, even if the pid is reused later. nil if gone or a zombie.
    static func startTime(_ pid: Int32) -> String? {
        guard let fields = statFields(pid), fields.count > 19, fields[0] != "Z" else { return nil }
        return String(fields[19])
    }

    /// The fields after "(comm)": state is [0], ppid [1], starttime [19].
    static func statFields(_ pid: Int32) -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    static func children(of parent: Int32) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
            guard let pid = Int32(entry), let fields = statFields(pid), fields.count > 1,
                  Int32(fields[1]) == parent else { return nil }
            return pid
        }
    }

    /// Every process traced by one of `tracers` (TracerPid in /proc/PID/status).
    static func traced(by tracers: Set<Int32>) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
            guard let pid = Int32(entry), let tracer = ProcFS.status(pid: pid)?.tracerPID else { return nil }
            return tracers.contains(tracer) ? pid : nil
        }
    }

    static func timerCount(_ pid: Int32) -> Int {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/timers", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { $0.hasPrefix("ID: ") }.count
    }

    // MARK: the scenario

    struct Outcome {
        var process: Process
        var stdout: String
        var stderr: String
        var secondsAfterSignal: Double
    }

    func write(_ checkpoint: Checkpoint) throws -> String {
        let path = try TestCheckpoints.writeTemporary(checkpoint, prefix: "tc-int")
        files.append(path)
        return path
    }

    /// Starts the restore, waits for its helper and `delay` more, checks the
    /// helper is mid-restore, sends `signo` to the tool only, and waits.
    func interrupt(_ checkpoint: Checkpoint, strategy: String, signo: Int32, environment: [String: String] = [:],
                   midway: (Int32) -> Bool) throws -> Outcome {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("tc-int-out-\(UUID().uuidString)").path
        let err = out + ".err"
        XCTAssertTrue(FileManager.default.createFile(atPath: out, contents: nil))
        XCTAssertTrue(FileManager.default.createFile(atPath: err, contents: nil))
        files += [out, err]
        let tool = Process()
        tool.executableURL = URL(fileURLWithPath: try BuiltProducts.path("timer-criu"))
        tool.arguments = ["restore", try write(checkpoint), "--kernel", "host", "--strategy", strategy, "--json"]
        tool.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        tool.standardInput = FileHandle.nullDevice
        tool.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        tool.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        try tool.run()
        tools.append(tool)
        let toolPID = tool.processIdentifier

        var helper: Int32? = nil
        for _ in 0..<200 where helper == nil {
            helper = Self.children(of: toolPID).first
            if helper == nil { usleep(25_000) }
        }
        let helperPID = try XCTUnwrap(helper, "no helper process appeared under the tool (pid \(toolPID))")
        let start = try XCTUnwrap(Self.startTime(helperPID))
        helpers.append((helperPID, start))
        // Wait until the helper is visibly mid-restore (no fixed sleep).
        let deadline = Date().addingTimeInterval(30)
        // Checked once a round and remembered: the dance's list is often
        // empty between a create and its delete, so asking again can say no.
        var wasMidway = false
        while !wasMidway && tool.isRunning && Date() < deadline {
            wasMidway = midway(helperPID)
            if !wasMidway { usleep(10_000) }
        }
        XCTAssertTrue(tool.isRunning, "the restore ended before the signal")
        XCTAssertTrue(wasMidway, "helper \(helperPID) was never seen mid-restore (\(Self.timerCount(helperPID)) timers)")

        kill(toolPID, signo)
        let signalled = Date()
        while tool.isRunning && Date().timeIntervalSince(signalled) < 15 { usleep(20_000) }
        XCTAssertFalse(tool.isRunning, "the tool did not stop within 15 s of signal \(signo)")
        if tool.isRunning { kill(toolPID, SIGKILL) }
        tool.waitUntilExit()
        let elapsed = Date().timeIntervalSince(signalled)

        // The helper is gone (PR_SET_PDEATHSIG covers SIGKILL of the tool).
        for _ in 0..<250 where Self.startTime(helperPID) == start { usleep(20_000) }
        XCTAssertNotEqual(Self.startTime(helperPID), start, "helper \(helperPID) still running after signal \(signo)")
        // Anything the tool left is re-parented to this test process (a subreaper).
        let leaked = LeakedProcesses.leakedSince(childrenBefore)
        XCTAssertEqual(leaked, [], "the tool left processes: \(leaked.map(LeakedProcesses.commandLine))")
        for pid in leaked { kill(pid, SIGKILL) }
        XCTAssertEqual(Self.traced(by: [toolPID, helperPID]), [], "a process is left traced")
        return Outcome(process: tool,
                       stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                       stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "",
                       secondsAfterSignal: elapsed)
    }

    /// One timer at ID 30,000,000: a dance of about 25 s (release) on the host.
    var farCheckpoint: Checkpoint {
        Checkpoint(pid: 4242, kernel: "x", threads: [4242], timers: [
            CheckpointTimer(id: 30_000_000, clockID: .monotonic, signal: 14, sigevValue: 0, notify: .signal, notifyTarget: 4242),
        ])
    }

    /// 2,000 timers at even IDs, each create slowed by 1 ms (test hook): ~2 s.
    var slowCheckpoint: Checkpoint {
        Checkpoint(pid: 4242, kernel: "x", threads: [4242], timers: (0..<2000).map {
            CheckpointTimer(id: Int32($0 * 2), clockID: .monotonic, signal: 14, sigevValue: 0, notify: .none, notifyTarget: 4242)
        })
    }

    static let slowCreates = ["TIMER_CRIU_DEBUG_CREATE_DELAY_US": "1000"]

    /// During the dance the helper holds at most one timer at a time, and
    /// its ID shows how far the dance got: past 100,000 it is well under way.
    static func dancing(_ pid: Int32) -> Bool {
        guard startTime(pid) != nil else { return false }
        let ids = timerIDs(pid)
        return ids.count == 1 && ids[0] > 100_000
    }

    static func timerIDs(_ pid: Int32) -> [Int] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/timers", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { $0.hasPrefix("ID: ") }.compactMap { Int($0.dropFirst(4)) }
    }

    static func creatingSome(_ pid: Int32) -> Bool {
        let n = timerCount(pid)
        return n > 0 && n < 2000
    }

    // MARK: the dance

    /// SIGINT to the tool alone (no terminal): the tool passes it to the
    /// helper, which stops its loop and reports; exit 130 well within 3 s.
    func testSIGINTDuringDance() throws {
        let outcome = try interrupt(farCheckpoint, strategy: "dance", signo: SIGINT, midway: Self.dancing)
        XCTAssertEqual(outcome.process.terminationReason, .exit)
        XCTAssertEqual(outcome.process.terminationStatus, 130, outcome.stderr)
        XCTAssertLessThan(outcome.secondsAfterSignal, 3, "the helper should report, not be killed after 3 s")
        XCTAssertEqual(outcome.stderr,
                       "timer-criu: interrupted by SIGINT: the restore stopped; the report lists the timers that exist\n")
        let json = try JSONValue.parse(Array(outcome.stdout.utf8))
        XCTAssertEqual(json["ok"], .bool(false))
        XCTAssertEqual(json["error"]?["code"], .string("interrupted"))
        // Exactly which timers exist: none (the dance deletes every unwanted one).
        XCTAssertEqual(json["timers"], .array([]))
    }

    /// SIGTERM as SIGINT: the JSON report on stdout and one line on stderr.
    func testSIGTERMDuringDance() throws {
        let outcome = try interrupt(farCheckpoint, strategy: "dance", signo: SIGTERM, midway: Self.dancing)
        XCTAssertEqual(outcome.process.terminationReason, .exit)
        XCTAssertEqual(outcome.process.terminationStatus, 130, outcome.stderr)
        XCTAssertLessThan(outcome.secondsAfterSignal, 3, "the helper should report, not be killed after 3 s")
        XCTAssertEqual(outcome.stderr,
                       "timer-criu: interrupted by SIGTERM: the restore stopped; the report lists the timers that exist\n")
        let json = try JSONValue.parse(Array(outcome.stdout.utf8))
        XCTAssertEqual(json["ok"], .bool(false))
        XCTAssertEqual(json["error"]?["code"], .string("interrupted"))
        XCTAssertEqual(json["timers"], .array([]))
    }

    func testSIGKILLDuringDance() throws {
        let outcome = try interrupt(farCheckpoint, strategy: "dance", signo: SIGKILL, midway: Self.dancing)
        XCTAssertEqual(outcome.process.terminationReason, .uncaughtSignal)
        XCTAssertEqual(outcome.process.terminationStatus, SIGKILL)
    }

    // MARK: create-at-id (slowed by the test hook)

    func requireCreateAtID() throws {
        let result = try runTimerCRIU(["check", "--json"])
        let json = try JSONValue.parse(Array(result.stdout))
        if json["restore_strategy"] != .string("create-at-id") {
            throw XCTSkip("this kernel has no create-at-id (timer-criu check)")
        }
    }

    /// The helper polls for a stop only between 65,536-timer blocks in
    /// create-at-id, so here the tool gives it 3 s, then kills it: still 130.
    func testSIGINTDuringCreateAtID() throws {
        try requireCreateAtID()
        let outcome = try interrupt(slowCheckpoint, strategy: "create-at-id", signo: SIGINT,
                                    environment: Self.slowCreates, midway: Self.creatingSome)
        XCTAssertEqual(outcome.process.terminationReason, .exit)
        XCTAssertEqual(outcome.process.terminationStatus, 130, outcome.stderr)
        XCTAssertLessThan(outcome.secondsAfterSignal, 5)
    }

    func testSIGTERMDuringCreateAtID() throws {
        try requireCreateAtID()
        let outcome = try interrupt(slowCheckpoint, strategy: "create-at-id", signo: SIGTERM,
                                    environment: Self.slowCreates, midway: Self.creatingSome)
        XCTAssertEqual(outcome.process.terminationStatus, 130, outcome.stderr)
        // As SIGINT: the helper gets 3 s to report before it is killed.
        XCTAssertLessThan(outcome.secondsAfterSignal, 5)
    }

    func testSIGKILLDuringCreateAtID() throws {
        try requireCreateAtID()
        let outcome = try interrupt(slowCheckpoint, strategy: "create-at-id", signo: SIGKILL,
                                    environment: Self.slowCreates, midway: Self.creatingSome)
        XCTAssertEqual(outcome.process.terminationReason, .uncaughtSignal)
    }
}
