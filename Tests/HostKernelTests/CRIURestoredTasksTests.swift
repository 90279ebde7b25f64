import Foundation
import HostKernel
import TimerCore
import TimerFormats
import TimerComparison
import XCTest

/// The action script's pid mapping on a fake /proc: a tree CRIU restored in a
/// new pid namespace (outer pids 5000..., the pstree ids 1, 2, 4 inside),
/// found by the last NSpid of each task.
final class CRIURestoredTasksTests: XCTestCase {
    var procRoot = ""

    override func setUpWithError() throws {
        procRoot = NSTemporaryDirectory() + "fake-proc-\(getpid())-\(UUID().uuidString.prefix(8))"
        // Root 5000 (1 inside) with thread 5003 (4 inside) and child 5001 (2 inside).
        try task(5000, 5000, inner: 1, children: "5001 ")
        try task(5000, 5003, inner: 4, children: "")
        try task(5001, 5001, inner: 2, children: "")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: procRoot) }

    func task(_ pid: Int32, _ tid: Int32, inner: Int32, children: String) throws {
        let status = "Name:\tprog\nTgid:\t\(pid)\nPid:\t\(tid)\nNSpid:\t\(tid)\t\(inner)\n"
        let taskDirectory = "\(procRoot)/\(pid)/task/\(tid)"
        try FileManager.default.createDirectory(atPath: taskDirectory, withIntermediateDirectories: true)
        try status.write(toFile: taskDirectory + "/status", atomically: false, encoding: .utf8)
        try children.write(toFile: taskDirectory + "/children", atomically: false, encoding: .utf8)
        if pid == tid { try status.write(toFile: "\(procRoot)/\(pid)/status", atomically: false, encoding: .utf8) }
    }

    func checkpoint(_ pid: Int32, threads: [Int32], notifying thread: Int32? = nil) -> Checkpoint {
        let timers = thread.map {
            [CheckpointTimer(id: 3, clockID: .monotonic, signal: 34, sigevValue: 0, notify: .threadID, notifyTarget: $0,
                             valueNanoseconds: 0, intervalNanoseconds: 0, overrun: 0)]
        } ?? []
        return Checkpoint(pid: pid, kernel: "criu-image", threads: threads, timers: timers)
    }

    func testTasksAreFoundByTheIdCRIURestoredThemWith() throws {
        let map = try CRIUActionScript.restoredTasks(
            for: [checkpoint(1, threads: [1, 4], notifying: 4), checkpoint(2, threads: [2])], root: 5000, procRoot: procRoot)
        XCTAssertEqual(map[1], CRIURestoredProcess(pid: 5000, threads: [1: 5000, 4: 5003]))
        XCTAssertEqual(map[2], CRIURestoredProcess(pid: 5001, threads: [2: 5001]))
    }

    func testAMissingProcessOrThreadIsNamed() throws {
        XCTAssertThrowsError(try CRIUActionScript.restoredTasks(
            for: [checkpoint(1, threads: [1]), checkpoint(3, threads: [3])], root: 5000, procRoot: procRoot)) {
            XCTAssertEqual("\($0)", "process 3 of timer-criu.json is not among the restored tasks (root 5000 and its descendants)")
        }
        XCTAssertThrowsError(try CRIUActionScript.restoredTasks(
            for: [checkpoint(1, threads: [1, 9], notifying: 9)], root: 5000, procRoot: procRoot)) {
            XCTAssertEqual("\($0)", "process 1 (restored as 5000): thread 9, which its timers need, was not restored")
        }
        var child = checkpoint(2, threads: [2])
        child.timers = [CheckpointTimer(id: 5, clockID: .cpuClock(pid: 1, perThread: false, type: .sched), signal: 12, sigevValue: 0,
                                        notify: .signal, notifyTarget: 2, valueNanoseconds: 0, intervalNanoseconds: 0, overrun: 0)]
        XCTAssertThrowsError(try CRIUActionScript.restoredTasks(for: [checkpoint(1, threads: [1]), child], root: 5000, procRoot: procRoot)) {
            XCTAssertEqual("\($0)", "process 2: timer 5: clock cpu:pid=1:sched (-14) counts task 1 of another process, which restore --into (one process at a time) cannot map")
        }
        XCTAssertThrowsError(try CRIUActionScript.restoredTasks(for: [checkpoint(2, threads: [2])], root: 5000, procRoot: procRoot)) {
            XCTAssertEqual("\($0)", "the restored root task 5000 (CRTOOLS_INIT_PID) is task 1 in its pid namespace, but the root of timer-criu.json is process 2")
        }
    }
}
