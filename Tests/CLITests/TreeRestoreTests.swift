import Foundation
import ModelKernel
import TimerCore
import TimerFormats
import TimerComparison
import XCTest

/// TreeRestore on the model: one ModelKernel, one model process per
/// checkpoint, parents first (docs/trees.md).
final class TreeRestoreTests: XCTestCase {
    func timer(_ id: Int32, _ pid: Int32, clock: ClockID = .monotonic) -> CheckpointTimer {
        CheckpointTimer(id: id, clockID: clock, signal: 14, sigevValue: 0, notify: .signal, notifyTarget: pid)
    }

    /// Root 500 with children 600 and 700; all three had timer ID 0.
    func sharedIDTree() -> CheckpointTree {
        let index = CheckpointTreeIndex(root: 500, processes: [
            CheckpointTreeEntry(pid: 500, ppid: 1, file: "500.json"),
            CheckpointTreeEntry(pid: 600, ppid: 500, file: "600.json"),
            CheckpointTreeEntry(pid: 700, ppid: 500, file: "700.json"),
        ])
        return CheckpointTree(directory: "mem", index: index, checkpoints: [
            Checkpoint(pid: 500, kernel: "6.18.0", threads: [500], timers: [timer(0, 500)]),
            Checkpoint(pid: 600, kernel: "6.18.0", threads: [600], timers: [timer(0, 600), timer(1, 600)]),
            Checkpoint(pid: 700, kernel: "6.18.0", threads: [700], timers: [timer(0, 700), timer(4, 700)]),
        ])
    }

    func restore(_ tree: CheckpointTree, on profile: KernelProfile,
                 strategy: RestoreStrategy = .auto) -> (TreeRestoreReport, ModelKernel, [ModelProcess]) {
        let machine = RecordingMachine(ModelKernel(profile: profile))
        let report = TreeRestore.restore(tree, on: machine, options: .init(strategy: strategy))
        return (report, machine.model, machine.spawned)
    }

    /// Per process and in total: create-at-ID costs one create per timer plus
    /// two prctls per process (on and off).
    func testPerProcessAndTotalSyscallsOnLinux615() {
        let (report, _, processes) = restore(sharedIDTree(), on: .linux615)
        XCTAssertTrue(report.ok, report.humanText)
        XCTAssertEqual(report.processes.map(\.entry.pid), [500, 600, 700])
        XCTAssertEqual(report.processes.map(\.report.processID), processes.map(\.processID))
        XCTAssertEqual(report.processes.map(\.report.syscalls.timerCreate), [1, 2, 2])
        XCTAssertEqual(report.processes.map(\.report.syscalls.prctl), [2, 2, 2])
        XCTAssertEqual(report.totalSyscalls.timerCreate, 5)
        XCTAssertEqual(report.totalSyscalls.prctl, 6)
        XCTAssertEqual(report.totalSyscalls.total, 11)
        XCTAssertEqual(report.totalTimers, 5)
        XCTAssertEqual(processes.map { $0.procTimers().map(\.id).sorted() }, [[0], [0, 1], [0, 4]])
        XCTAssertTrue(report.humanText.contains(
            "total: 3 of 3 process(es) verified, 5 timer(s); syscalls: timer_create 5, timer_delete 0, timer_settime 0, prctl 6, sysctl_write 0 (total 11)"),
            report.humanText)
    }

    /// Per-process counters (3.10+): the dance works in each fresh process.
    /// Process 700 (IDs 0 and 4): 0 kept, 1-3 created and deleted, 4 kept.
    func testDanceOnLinux310() {
        let (report, _, _) = restore(sharedIDTree(), on: .linux310)
        XCTAssertTrue(report.ok, report.humanText)
        XCTAssertEqual(report.processes.map(\.report.strategy), [.dance, .dance, .dance])
        XCTAssertEqual(report.processes.map(\.report.syscalls.timerCreate), [1, 2, 5])
        XCTAssertEqual(report.processes.map(\.report.syscalls.timerDelete), [0, 0, 3])
        XCTAssertEqual(report.totalSyscalls.total, 11)
    }

    /// linux-2.6: one ID space for the whole machine. The root gets ID 0; the
    /// children ask for 0 and are handed 1, so no strategy can restore them.
    func testGlobalIDsCannotBeRestoredOnLinux26() {
        let tree = sharedIDTree()
        let (report, model, processes) = restore(tree, on: .linux26)
        XCTAssertFalse(report.ok)
        XCTAssertEqual(report.processes.map(\.report.ok), [true, false, false])
        XCTAssertEqual(report.verifiedCount, 1)
        XCTAssertEqual(report.processes[1].report.error?.code, .idsNotConsecutive)
        XCTAssertEqual(report.processes[1].report.error?.message,
                       "dance to ID 0: timer_create returned ID 1 where 0 was next: the kernel does not give IDs consecutively (it reuses freed IDs or the process is not fresh)")
        // ID 0 stays with the root; the failed processes hold nothing.
        XCTAssertEqual(processes.map { $0.procTimers().map(\.id).sorted() }, [[0], [], []])
        XCTAssertEqual(model.sigpendingCount, 1)
        XCTAssertEqual(TreeRestore.sharedIDNotes(tree), [
            "one ID space for all processes: 1 timer ID(s) were held by more than one process of the tree, and only one process can have each: ID 0 (processes 500, 600, 700)",
        ])
        // Alone, each of the children restores on linux-2.6 (ID 0 is free in a fresh machine).
        let alone = ModelKernel(profile: .linux26).spawnProcess()
        XCTAssertTrue(Restorer.restore(Checkpoint(pid: 600, kernel: "x", threads: [600], timers: [timer(0, 600)]),
                                       into: alone).ok)
    }

    /// A parent's CPU clock naming its child is mapped to the child's new pid
    /// (all processes are spawned before any is restored).
    func testCPUClockOfAChildIsMapped() throws {
        let clock = ClockID.cpuClock(pid: 600, perThread: false, type: .sched)
        let index = CheckpointTreeIndex(root: 500, processes: [
            CheckpointTreeEntry(pid: 500, ppid: 1, file: "500.json"),
            CheckpointTreeEntry(pid: 600, ppid: 500, file: "600.json"),
        ])
        let tree = CheckpointTree(directory: "mem", index: index, checkpoints: [
            Checkpoint(pid: 500, kernel: "6.18.0", threads: [500], timers: [timer(2, 500, clock: clock)]),
            Checkpoint(pid: 600, kernel: "6.18.0", threads: [600], timers: [timer(0, 600)]),
        ])
        let (report, _, processes) = restore(tree, on: .linux615)
        XCTAssertTrue(report.ok, report.humanText)
        let shown = try XCTUnwrap(processes[0].procTimers().first)
        XCTAssertEqual(shown.clockID.cpuClockPID, processes[1].processID)

        // Alone, the parent's checkpoint is refused: its clock names a process not restored.
        let single = Restorer.restore(tree.checkpoints[0], into: ModelKernel().spawnProcess())
        XCTAssertEqual(single.error?.code, .planRefused)
    }

    func testJSONHasEveryProcessAndTheTotal() throws {
        let (report, _, _) = restore(sharedIDTree(), on: .linux26)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(report.jsonBytes())) as? [String: Any])
        XCTAssertEqual(object["ok"] as? Bool, false)
        XCTAssertEqual(object["root"] as? Int, 500)
        let processes = try XCTUnwrap(object["processes"] as? [[String: Any]])
        XCTAssertEqual(processes.map { $0["pid"] as? Int }, [500, 600, 700])
        XCTAssertEqual(processes.map { $0["ok"] as? Bool }, [true, false, false])
        let inner = try XCTUnwrap(processes[1]["report"] as? [String: Any])
        XCTAssertEqual((inner["error"] as? [String: Any])?["code"] as? String, "ids-not-consecutive")
        let total = try XCTUnwrap(object["total"] as? [String: Any])
        XCTAssertEqual(total["processes"] as? Int, 3)
        XCTAssertEqual(total["verified"] as? Int, 1)
        XCTAssertEqual(total["failed"] as? Int, 2)
        XCTAssertEqual((total["syscalls"] as? [String: Any])?["total"] as? Int, report.totalSyscalls.total)
    }
}
