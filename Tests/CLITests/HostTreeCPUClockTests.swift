import Foundation
import HostKernel
import TestSupport
import TimerCore
import TimerFormats
import XCTest

/// A tree whose parent holds a timer on its child's process CPU clock,
/// restored on the host: every helper is spawned before any restores, so the
/// parent's timer is created on the clock of the child's new helper (the pid
/// map of `MachineRestore`), as on the model.
final class HostTreeCPUClockTests: XCTestCase {
    var directory = ""
    var held: [Int32] = []

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "host-tree-cpu-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        for pid in held { kill(pid, SIGKILL) }  // the helpers this test had held
        try? FileManager.default.removeItem(atPath: directory)
    }

    func testParentTimerOnChildCPUClockIsMappedOnTheHost() throws {
        let childClock = ClockID.cpuClock(pid: 600, perThread: false, type: .sched)
        let index = CheckpointTreeIndex(root: 500, processes: [
            CheckpointTreeEntry(pid: 500, ppid: 1, file: "500.json"),
            CheckpointTreeEntry(pid: 600, ppid: 500, file: "600.json"),
        ])
        let checkpoints = [
            Checkpoint(pid: 500, kernel: "6.18.0", threads: [500], timers: [
                CheckpointTimer(id: 2, clockID: childClock, signal: 10, sigevValue: 0x1234, notify: .signal,
                                notifyTarget: 500, valueNanoseconds: 30_000_000_000, intervalNanoseconds: 0, overrun: 0),
            ]),
            Checkpoint(pid: 600, kernel: "6.18.0", threads: [600], timers: [
                CheckpointTimer(id: 0, clockID: .monotonic, signal: 14, sigevValue: 0, notify: .signal, notifyTarget: 600),
            ]),
        ]
        let tree = directory + "/tree"
        try CheckpointTreeWriter.write(index: index, checkpoints: checkpoints, to: tree)

        let result = try runTimerCRIU(["restore", tree, "--kernel", "host", "--hold", "--json"])
        let object = try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]
        let processes = object?["processes"] as? [[String: Any]] ?? []
        held = processes.compactMap { ($0["held_pid"] as? Int).map { Int32($0) } }
        XCTAssertEqual(result.status, 0, result.stderr + result.stdoutText)
        XCTAssertEqual(held.count, 2, result.stdoutText)
        guard held.count == 2 else { return }
        let (parent, child) = (held[0], held[1])

        // The report: the parent's timer, read back from its own /proc, on the child helper's clock.
        let report = try XCTUnwrap(processes[0]["report"] as? [String: Any])
        let timers = try XCTUnwrap(report["timers"] as? [[String: Any]])
        XCTAssertEqual(timers.first?["clock_id"] as? Int,
                       Int(ClockID.cpuClock(pid: child, perThread: false, type: .sched).rawValue))

        // And independently: the held parent helper's /proc/PID/timers.
        let shown = try ProcTimersParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: "/proc/\(parent)/timers"))))
        XCTAssertEqual(shown.map(\.id), [2])
        XCTAssertEqual(shown.first?.clockID.cpuClockPID, child)
        XCTAssertEqual(shown.first?.clockID.cpuClockType, .sched)
        XCTAssertFalse(shown.first?.clockID.cpuClockIsPerThread ?? true)
    }
}
