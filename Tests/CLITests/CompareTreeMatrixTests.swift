import XCTest
import ModelKernel
@testable import TimerCore
@testable import TimerComparison
import TimerFormats
@testable import TimerCRIUCommands

/// The compare matrix on a process tree: each row restores the whole tree on
/// one fresh machine of the profile, counts are the tree's totals, and long
/// dances are projected per process as for single checkpoints.
final class CompareTreeMatrixTests: XCTestCase {
    /// Root 100 (timer 0), child 200 (timer 0 and timer 5 to its thread 201 by
    /// SIGEV_THREAD_ID), child 300 (timer 3). 100 and 200 share ID 0.
    static func tree(directory: String = "mem") -> CheckpointTree {
        func timer(_ id: Int32, _ target: Int32, notify: NotifyMode = .signal) -> CheckpointTimer {
            CheckpointTimer(id: id, clockID: .monotonic, signal: 14, sigevValue: UInt64(id), notify: notify,
                            notifyTarget: target)
        }
        let index = CheckpointTreeIndex(root: 100, processes: [
            CheckpointTreeEntry(pid: 100, ppid: 1, file: "100.json"),
            CheckpointTreeEntry(pid: 200, ppid: 100, file: "200.json"),
            CheckpointTreeEntry(pid: 300, ppid: 100, file: "300.json"),
        ])
        return CheckpointTree(directory: directory, index: index, checkpoints: [
            Checkpoint(pid: 100, kernel: "6.18.44", threads: [100], timers: [timer(0, 100)]),
            Checkpoint(pid: 200, kernel: "6.18.44", threads: [200, 201],
                       timers: [timer(0, 200), timer(5, 201, notify: .threadID)]),
            Checkpoint(pid: 300, kernel: "6.18.44", threads: [300], timers: [timer(3, 300)]),
        ])
    }

    struct Counts: Equatable, CustomStringConvertible {
        var create = 0, delete = 0, prctl = 0, sysctl = 0
        init(create: Int = 0, delete: Int = 0, prctl: Int = 0, sysctl: Int = 0) {
            self.create = create; self.delete = delete; self.prctl = prctl; self.sysctl = sysctl
        }
        init(_ s: SyscallCounts) {
            self.init(create: s.timerCreate, delete: s.timerDelete, prctl: s.prctl, sysctl: s.sysctlWrite)
        }
        var description: String { "c\(create) d\(delete) p\(prctl) w\(sysctl)" }
    }

    func row(_ matrix: CompareMatrix, _ kernel: String, _ strategy: RestoreStrategy) -> CompareRow {
        matrix.rows.first { $0.kernel == kernel && $0.strategy == strategy }!
    }

    func testTotalsOutcomesAndSharedIDNote() {
        let matrix = CompareMatrix.run(tree: Self.tree(), machines: ModelKernel.everyProfile())
        XCTAssertEqual(matrix.rows.count, 15)
        XCTAssertEqual(matrix.timerCount, 4)
        XCTAssertEqual(matrix.maxID, 5)
        XCTAssertEqual(matrix.tree?.root, 100)
        XCTAssertEqual(matrix.tree?.processes, 3)

        // linux-3.10, dance per process: 100 creates 0; 200 creates 0...5 and
        // deletes 1...4; 300 creates 0...3 and deletes 0...2.
        let dance310 = row(matrix, "linux-3.10", .dance)
        XCTAssertEqual(dance310.outcome, "verified (3 processes)")
        XCTAssertEqual(Counts(dance310.syscalls), Counts(create: 11, delete: 7))
        XCTAssertEqual(dance310.processes.map { Counts($0.syscalls) },
                       [Counts(create: 1), Counts(create: 6, delete: 4), Counts(create: 4, delete: 3)])
        XCTAssertEqual(dance310.processes.map(\.entry.pid), [100, 200, 300])
        XCTAssertTrue(dance310.notes.isEmpty)

        // linux-6.15, create-at-ID: one create per timer, prctl on and off per process.
        let createAtID615 = row(matrix, "linux-6.15", .createAtID)
        XCTAssertEqual(createAtID615.outcome, "verified (3 processes)")
        XCTAssertEqual(Counts(createAtID615.syscalls), Counts(create: 4, prctl: 6))
        XCTAssertEqual(createAtID615.processes.map { Counts($0.syscalls) },
                       [Counts(create: 1, prctl: 2), Counts(create: 2, prctl: 2), Counts(create: 1, prctl: 2)])
        XCTAssertEqual(row(matrix, "linux-6.15", .dance).outcome, "verified (3 processes)")
        XCTAssertEqual(Counts(row(matrix, "linux-6.15", .dance).syscalls), Counts(create: 11, delete: 7))
        // No cursor on 6.15: each process tries its sysctl write once.
        let cursor615 = row(matrix, "linux-6.15", .cursor)
        XCTAssertEqual(cursor615.outcome, "process 100: no cursor sysctl (ENOENT)")
        XCTAssertEqual(Counts(cursor615.syscalls), Counts(sysctl: 3))

        // linux-2.6: one machine, one ID space. The root gets 0; 200 asks for
        // 0 and is handed 1 (create, delete, fail); so is 300 (its dance
        // expects 0 first).
        let note = "one ID space for all processes: 1 timer ID(s) were held by more than one process of the tree, "
            + "and only one process can have each: ID 0 (processes 100, 200)"
        let dance26 = row(matrix, "linux-2.6", .dance)
        XCTAssertFalse(dance26.ok)
        XCTAssertEqual(dance26.failedPID, 200)
        XCTAssertEqual(dance26.outcome,
                       "process 200: IDs reused: dance to ID 0: got ID 1 where 0 was next (one ID space: see note)")
        XCTAssertEqual(Counts(dance26.syscalls), Counts(create: 3, delete: 2))
        XCTAssertEqual(dance26.processes.map(\.ok), [true, false, false])
        XCTAssertEqual(dance26.notes, [note])
        let createAtID26 = row(matrix, "linux-2.6", .createAtID)
        XCTAssertEqual(createAtID26.outcome, "process 100: no create-at-ID: prctl EINVAL (one ID space: see note)")
        XCTAssertEqual(Counts(createAtID26.syscalls), Counts(prctl: 3))
        XCTAssertEqual(createAtID26.notes, [note])

        // The totals are what the processes add up to, time included.
        for r in matrix.rows {
            XCTAssertEqual(r.syscalls.total, r.processes.reduce(0) { $0 + $1.syscalls.total }, "\(r.kernel) \(r.strategy)")
            XCTAssertEqual(r.projectedNanoseconds, r.processes.reduce(0) { $0 + $1.projectedNanoseconds },
                           accuracy: 1e-6)
        }
        let text = matrix.text(checkpointName: "mem")
        XCTAssertTrue(text.hasPrefix("tree mem: 3 process(es), root 100, 4 timer(s), highest ID 5\n"), text)
        XCTAssertEqual(text.components(separatedBy: "note (linux-2.6): " + note).count, 2, text)
    }

    /// All processes of a row live on one machine, and the thread_id timer
    /// comes back aimed at process 200's new thread.
    func testOneMachineAndThreadIDTimerOnTheNewThread() throws {
        let machine = RecordingMachine(ModelKernel(profile: .linux615))
        let r = CompareMatrix.treeRow(Self.tree(), on: machine, strategy: .createAtID, costs: .measured618, runLimit: nil)
        let rowMachine = try XCTUnwrap(machine.lastRebooted)
        XCTAssertTrue(machine.spawned.isEmpty, "a row runs on a fresh machine, not on the one given")
        XCTAssertTrue(r.ok, r.outcome)
        XCTAssertEqual(rowMachine.spawned.count, 3)
        XCTAssertTrue(rowMachine.spawned.allSatisfy { $0.kernel === rowMachine.spawned[0].kernel })
        XCTAssertEqual(r.processes.map(\.restoredPID), rowMachine.spawned.map(\.processID))
        let child = rowMachine.spawned[1]
        let timer5 = try XCTUnwrap(child.procTimers().first { $0.id == 5 })
        XCTAssertEqual(timer5.notify, .threadID)
        XCTAssertEqual(timer5.notifyTarget, child.threadIDs[1])
        XCTAssertNotEqual(child.threadIDs[1], child.processID)
    }

    /// A dance past the run limit is projected per process, with exactly the
    /// counts a run gives (process 200 needs 6 creates, 300 needs 4).
    func testLongDancesProjectedPerProcess() {
        let run = CompareMatrix.run(tree: Self.tree(), machines: ModelKernel.everyProfile(), strategies: [.dance],
                                    runLimit: nil)
        let projected = CompareMatrix.run(tree: Self.tree(), machines: ModelKernel.everyProfile(), strategies: [.dance],
                                          runLimit: 4)
        for (a, b) in zip(run.rows, projected.rows) {
            XCTAssertEqual(Counts(a.syscalls), Counts(b.syscalls), a.kernel)
            XCTAssertEqual(a.ok, b.ok, a.kernel)
            XCTAssertEqual(b.wasRun ? a.outcome : a.outcome.replacingOccurrences(of: "verified", with: "projected"),
                           b.outcome, a.kernel)
        }
        let r = row(projected, "linux-3.10", .dance)
        XCTAssertFalse(r.wasRun)
        XCTAssertNil(r.modelNanoseconds)
        XCTAssertEqual(r.processes.map(\.wasRun), [true, false, true])
        // Global or lowest-free kernels are never projected (their dance stops at the first hole).
        XCTAssertTrue(row(projected, "linux-2.6", .dance).wasRun)
    }

    /// The tree with process 300 also holding two timerfds and an itimer.
    static func treeWithTimerFDs() -> CheckpointTree {
        var tree = tree()
        tree.checkpoints[2].timerFDs = [
            CheckpointTimerFD(fd: 7, clockID: .monotonic, flags: 0, settimeFlags: 0, ticks: 0,
                              valueNanoseconds: 60_000_000_000, intervalNanoseconds: 1_000_000_000),
            CheckpointTimerFD(fd: 9, clockID: .boottime, flags: 0, settimeFlags: 0, ticks: 0,
                              valueNanoseconds: 0, intervalNanoseconds: 0),
        ]
        tree.checkpoints[2].itimers = CheckpointITimers(real: TimerValue(valueNanoseconds: 90_000_000_000,
                                                                         intervalNanoseconds: 0))
        return tree
    }

    /// Tree rows, their processes and single rows count the timerfd and
    /// itimer syscalls exactly as a single restore's report does; the table
    /// grows a TIMERFD column only then.
    func testTimerFDSyscallsCountedLikeASingleRestore() throws {
        let tree = Self.treeWithTimerFDs()
        let alone = Restorer.restore(tree.checkpoints[2], into: ModelKernel().spawnProcess(), options: .init(strategy: .createAtID))
        XCTAssertTrue(alone.ok, "\(alone.error as Any)")
        let expected = try XCTUnwrap(alone.timerFDSyscalls)
        XCTAssertEqual(expected.timerfdCreate, 2)
        XCTAssertEqual(expected.setitimer, 1)

        let matrix = CompareMatrix.run(tree: tree, machines: [ModelKernel(profile: .linux615)], strategies: [.createAtID])
        let r = try XCTUnwrap(matrix.rows.first)
        XCTAssertTrue(r.ok, r.outcome)
        XCTAssertEqual(r.timerFDSyscalls, expected)
        XCTAssertEqual(r.processes.map(\.timerFDSyscalls), [nil, nil, expected])
        let text = matrix.text(checkpointName: "t")
        XCTAssertTrue(text.contains("TIMERFD"), text)
        XCTAssertTrue(text.contains("TIMERFD = timerfd and itimer syscalls"), text)
        let json = try JSONValue.parse(Array(matrix.json(checkpointName: "t").utf8))
        guard case let .array(rows)? = json["rows"] else { return XCTFail("no rows") }
        XCTAssertEqual(rows[0]["timerfd_syscalls"]?["total"], .number(String(expected.total)))
        guard case let .array(processes)? = rows[0]["processes"] else { return XCTFail("no processes") }
        XCTAssertNil(processes[0]["timerfd_syscalls"])
        XCTAssertEqual(processes[2]["timerfd_syscalls"]?["timerfd_create"], .number("2"))

        let single = CompareMatrix.run(tree.checkpoints[2], machines: [ModelKernel(profile: .linux615)],
                                       strategies: [.createAtID])
        XCTAssertEqual(single.rows.first?.timerFDSyscalls, expected)

        // The tree restore report: the same total, in both faces.
        let report = TreeRestore.restore(tree, on: ModelKernel(profile: .linux615), options: .init(strategy: .createAtID))
        XCTAssertTrue(report.ok)
        XCTAssertEqual(report.totalTimerFDSyscalls, expected)
        XCTAssertTrue(report.humanText.contains("\ntotal: " + expected.text + "\n"), report.humanText)
        let treeJSON = try JSONValue.parse(report.jsonBytes())
        XCTAssertEqual(treeJSON["total"]?["timerfd_syscalls"]?["setitimer"], .number("1"))

        // Without timerfds: no column, no key (the README's outputs stay as they are).
        let plain = CompareMatrix.run(tree: Self.tree(), machines: [ModelKernel(profile: .linux615)])
        XCTAssertFalse(plain.text(checkpointName: "t").contains("TIMERFD"))
        XCTAssertFalse(plain.json(checkpointName: "t").contains("timerfd_syscalls"))
        XCTAssertNil(TreeRestore.restore(Self.tree(), on: ModelKernel()).totalTimerFDSyscalls)
        // Disarmed itimers only (as every CRIU checkpoint has): counted (all 0) in JSON, no column.
        var disarmed = Self.tree()
        disarmed.checkpoints[0].itimers = CheckpointITimers()
        let quiet = CompareMatrix.run(tree: disarmed, machines: [ModelKernel(profile: .linux615)])
        XCTAssertEqual(quiet.rows.first?.timerFDSyscalls?.total, 0)
        XCTAssertFalse(quiet.text(checkpointName: "t").contains("TIMERFD"))
    }
}
