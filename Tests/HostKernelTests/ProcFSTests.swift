import CTimerSyscalls
import Foundation
import HostKernel
import TimerCore
import TimerComparison
import XCTest

/// ProcFS in process: real /proc for this test process, and proc roots of
/// our own for what a real kernel will not show on demand.
final class ProcFSTests: XCTestCase {
    var roots: [String] = []

    override func tearDown() {
        for root in roots { try? FileManager.default.removeItem(atPath: root) }
        roots = []
        super.tearDown()
    }

    func fakeProcess(_ pid: Int32, timers: String?, tasks: [Int32] = []) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tc-procfs-\(UUID().uuidString)").path
        roots.append(root)
        try FileManager.default.createDirectory(atPath: "\(root)/\(pid)", withIntermediateDirectories: true)
        if let timers { try Data(timers.utf8).write(to: URL(fileURLWithPath: "\(root)/\(pid)/timers")) }
        for tid in tasks {
            try FileManager.default.createDirectory(atPath: "\(root)/\(pid)/task/\(tid)", withIntermediateDirectories: true)
            // A live thread: "gone" is decided by the threads' states.
            try Data("State:\tS (sleeping)\nTgid:\t\(pid)\n".utf8)
                .write(to: URL(fileURLWithPath: "\(root)/\(pid)/task/\(tid)/status"))
        }
        return root
    }

    func testThreadsOfThisProcessStartWithTheMainThread() throws {
        let pid = getpid()
        let threads = try ProcFS.threads(pid: pid)
        XCTAssertEqual(threads.first, pid)
        XCTAssertEqual(threads.count, Set(threads).count)
        XCTAssertEqual(Array(threads.dropFirst()), threads.dropFirst().sorted())
    }

    /// A timer this test creates is read back from its own /proc/self/timers
    /// with the fields it was created with, and is gone after its delete.
    func testThisProcessCanBeRead() throws {
        var id: Int32 = -1
        // CLOCK_BOOTTIME (7), SIGEV_NONE (1), signal 34: nothing is ever delivered.
        guard tc_timer_create(7, 1, 1, 34, 0x5eed, 0, &id) == 0 else {
            throw XCTSkip("timer_create: \(KernelErrno(rawValue: errno).nameAndMessage)")
        }
        let records = try ProcTimersParser.parse(try ProcFS.readTimers(pid: getpid()))
        let mine = try XCTUnwrap(records.first { $0.id == id }, "timer \(id) not in /proc/self/timers: \(records)")
        XCTAssertEqual(mine.clockID, .boottime)
        XCTAssertEqual(mine.notify, .none)
        XCTAssertEqual(mine.signal, 34)
        XCTAssertEqual(mine.sigevValue, 0x5eed)
        XCTAssertEqual(tc_timer_delete(id), 0)
        let after = try ProcTimersParser.parse(try ProcFS.readTimers(pid: getpid()))
        XCTAssertNil(after.first { $0.id == id }, "timer \(id) still listed after timer_delete")
    }

    func testFakeProcessWithThreadsAndWarnings() throws {
        let root = try fakeProcess(50, timers: """
            ID: 2
            signal: 40/0000000000000000
            notify: signal/tid.53
            ClockID: 1
            ID: 1
            signal: 40/0000000000000000
            notify: signal/tid.52
            ClockID: 1

            """, tasks: [52, 50, 51])
        let checkpoint = try ProcFS.checkpoint(pid: 50, procRoot: root, kernel: "6.18.0")
        XCTAssertEqual(checkpoint.threads, [50, 51, 52])
        XCTAssertEqual(checkpoint.timers.map(\.id), [1, 2])
        XCTAssertEqual(checkpoint.timers.map(\.notifyTargetExited), [false, true])
        XCTAssertEqual(checkpoint.warnings.count, 1)
        XCTAssertEqual(checkpoint.kernel, "6.18.0")
    }

    func testDuplicateIDsOnEveryTryMeanTheListKeptChanging() throws {
        let block = "ID: 4\nsignal: 14/0000000000000000\nnotify: signal/pid.60\nClockID: 0\n"
        let root = try fakeProcess(60, timers: block + block)
        XCTAssertThrowsError(try ProcFS.checkpoint(pid: 60, procRoot: root)) { error in
            XCTAssertEqual("\(error)", "process 60: its timers kept changing: \(root)/60/timers: timer ID 4 is listed twice (the timers changed while being read), on every try")
        }
    }

    func testErrors() throws {
        let root = try fakeProcess(70, timers: nil)
        XCTAssertThrowsError(try ProcFS.readTimers(pid: 71, procRoot: root)) {
            XCTAssertEqual($0 as? ProcReadError, .noSuchProcess(pid: 71))
        }
        XCTAssertThrowsError(try ProcFS.readTimers(pid: 70, procRoot: root)) {
            XCTAssertEqual($0 as? ProcReadError, .noTimersFile(path: "\(root)/70/timers"))
        }
        let bad = try fakeProcess(80, timers: "ID: 1\nsignal: 14/0000000000000000\n")
        XCTAssertThrowsError(try ProcFS.checkpoint(pid: 80, procRoot: bad)) {
            XCTAssertEqual("\($0)", "\(bad)/80/timers: line 3: truncated: expected \"notify: \" line, found the end of the text")
        }
    }
}
