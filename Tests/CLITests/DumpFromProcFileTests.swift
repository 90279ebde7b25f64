import Foundation
import TestSupport
import TimerCore
import TimerComparison
import XCTest

/// `dump --from-proc-file`: a saved /proc/PID/timers (as pasted into bug
/// reports) to a checkpoint, without the process.
final class DumpFromProcFileTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "tc-procfile-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func save(_ timers: [ProcTimer]) throws -> String {
        let path = directory + "/timers.txt"
        try Data(ProcTimersRenderer.render(timers)).write(to: URL(fileURLWithPath: path))
        return path
    }

    func testSavedFileBecomesTheSameCheckpointAsTheProcess() throws {
        let saved = try save([
            ProcTimer(id: 7, signal: 40, sigevValue: 0xdead_beef_cafe, notify: .threadID, notifyTarget: 4322, clockID: .monotonic),
            ProcTimer(id: 0, signal: 14, sigevValue: 0, notify: .signal, notifyTarget: 4321, clockID: .realtime),
            ProcTimer(id: 123456, signal: -1, sigevValue: 0, notify: .none, notifyTarget: 4321, clockID: .boottime),
        ])
        let result = try runTimerCRIU(["dump", "--from-proc-file", saved])
        XCTAssertEqual(result.status, 0, result.stderr)
        let checkpoint = try Checkpoint(json: Array(result.stdout))
        XCTAssertEqual(checkpoint.pid, 4321, "the pid most timers notify")
        XCTAssertEqual(checkpoint.threads, [4321, 4322])
        XCTAssertEqual(checkpoint.timers.map(\.id), [0, 7, 123456])
        XCTAssertEqual(checkpoint.timers[1].sigevValue, 0xdead_beef_cafe)
        XCTAssertEqual(checkpoint.timers[1].notifyTarget, 4322)
        XCTAssertEqual(checkpoint.timers[2].signal, -1)
        // The thread list is a guess from a file: said so.
        XCTAssertTrue(result.stderr.contains("taken from thread_id targets of a saved file"), result.stderr)
        // One thread: singular.
        XCTAssertTrue(result.stderr.contains("warning: thread 4322 is taken from thread_id targets of a saved file: "
            + "whether it was still alive is not known"), result.stderr)
    }

    func testPIDCanBeGivenAndOutputIsAtomic() throws {
        let saved = try save([ProcTimer(id: 3, signal: 14, sigevValue: 0, notify: .signal, notifyTarget: 99, clockID: .realtime)])
        let out = directory + "/cp.json"
        let result = try runTimerCRIU(["dump", "--from-proc-file", saved, "--pid", "99", "-o", out])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try Checkpoint(json: Array(try Data(contentsOf: URL(fileURLWithPath: out)))).pid, 99)
    }

    /// `--pid 5` for a file whose timers name pid 4321: the pid is the
    /// process's everywhere it appears (notify targets, a thread_id at the
    /// main thread, its CPU clocks), so all of them become 5, and a warning
    /// says so. Other threads stay as they are.
    func testGivenPIDRemapsEveryMentionAndSaysSo() throws {
        let ownClock = ClockID.cpuClock(pid: 4321, perThread: false, type: .sched)
        let saved = try save([
            ProcTimer(id: 0, signal: 14, sigevValue: 0, notify: .signal, notifyTarget: 4321, clockID: .realtime),
            ProcTimer(id: 1, signal: 34, sigevValue: 0, notify: .threadID, notifyTarget: 4321, clockID: .monotonic),
            ProcTimer(id: 2, signal: 35, sigevValue: 0, notify: .threadID, notifyTarget: 4322, clockID: ownClock),
        ])
        let result = try runTimerCRIU(["dump", "--from-proc-file", saved, "--pid", "5"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let checkpoint = try Checkpoint(json: Array(result.stdout))
        XCTAssertEqual(checkpoint.pid, 5)
        XCTAssertEqual(checkpoint.threads, [5, 4322])
        XCTAssertEqual(checkpoint.timers.map(\.notifyTarget), [5, 5, 4322])
        XCTAssertEqual(checkpoint.timers[2].clockID, ClockID.cpuClock(pid: 5, perThread: false, type: .sched))
        let warning = "--pid 5: the saved file's timers belong to pid 4321; 3 timer(s) naming 4321 (as notify target or CPU clock) are rewritten to name 5"
        XCTAssertEqual(checkpoint.warnings.first, warning)
        XCTAssertEqual(result.stderrLines.first, "timer-criu: warning: " + warning)
        // It restores: the thread_id targets are threads of the checkpoint.
        let file = directory + "/remapped.json"
        try result.stdout.write(to: URL(fileURLWithPath: file))
        XCTAssertEqual(try runTimerCRIU(["restore", file]).status, 0)
    }

    /// What dump writes, restore and inspect read. 500,000
    /// blocks (above the 460,000 where the JSON passed the old 64 MiB read
    /// limit) convert into 75 MB of JSON that reads back whole.
    func testHalfAMillionTimersConvertAndReadBack() throws {
        var text: [UInt8] = []
        text.reserveCapacity(38_000_000)
        for id in 0..<500_000 {
            text += Array("ID: \(id)\nsignal: 14/0000000000000000\nnotify: signal/pid.4321\nClockID: 1\n".utf8)
        }
        let saved = directory + "/timers.txt"
        try Data(text).write(to: URL(fileURLWithPath: saved))
        let out = directory + "/cp.json"
        let dump = try runCommand(try BuiltProducts.path("timer-criu"), ["dump", "--from-proc-file", saved, "-o", out], timeout: 300)
        XCTAssertEqual(dump.status, 0, dump.stderr)
        let size = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: out)[.size] as? Int)
        XCTAssertGreaterThan(size, 64 << 20, "the case the old limit refused")
        let inspect = try runCommand(try BuiltProducts.path("timer-criu"), ["inspect", "--json", out], timeout: 600)
        XCTAssertEqual(inspect.status, 0, inspect.stderr)
        let back = try Checkpoint(json: Array(inspect.stdout))
        XCTAssertEqual(back.timers.count, 500_000)
        XCTAssertEqual(back.timers.last?.id, 499_999)
    }

    func testRefusals() throws {
        let bad = directory + "/bad.txt"
        try Data("ID: 1\nsignal: 14/0000000000000000\nnotify: signal/pid.5\n".utf8).write(to: URL(fileURLWithPath: bad))
        let truncated = try runTimerCRIU(["dump", "--from-proc-file", bad])
        XCTAssertEqual(truncated.status, 2)
        XCTAssertEqual(truncated.stderrLines.count, 1, truncated.stderr)
        XCTAssertTrue(truncated.stderr.contains("bad.txt: line 4"), truncated.stderr)
        XCTAssertTrue(truncated.stdout.isEmpty)

        let onlyThreads = try save([ProcTimer(id: 3, signal: 14, sigevValue: 0, notify: .threadID, notifyTarget: 99, clockID: .realtime)])
        let noPID = try runTimerCRIU(["dump", "--from-proc-file", onlyThreads])
        XCTAssertEqual(noPID.status, 2)
        XCTAssertTrue(noPID.stderr.contains("pass --pid N"), noPID.stderr)

        let both = try runTimerCRIU(["dump", "1", "--from-proc-file", onlyThreads])
        XCTAssertEqual(both.status, 64)
        let values = try runTimerCRIU(["dump", "--from-proc-file", onlyThreads, "--values"])
        XCTAssertEqual(values.status, 64)
    }
}
