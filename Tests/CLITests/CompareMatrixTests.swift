import XCTest
import ModelKernel
@testable import TimerCore
@testable import TimerComparison
@testable import TimerCRIUCommands

/// The compare matrix on the model kernels: which strategy works where, with
/// exact syscall counts, and projected dances that count exactly what a run does.
final class CompareMatrixTests: XCTestCase {
    static func timer(_ id: Int32, clock: ClockID = .monotonic, armed: Bool = false) -> CheckpointTimer {
        CheckpointTimer(id: id, clockID: clock, signal: 14, sigevValue: UInt64(id), notify: .signal, notifyTarget: 4242,
                        valueNanoseconds: armed ? 5_000_000_000 : 0, intervalNanoseconds: armed ? 1_000_000_000 : 0,
                        overrun: 0)
    }

    static func checkpoint(_ timers: [CheckpointTimer]) -> Checkpoint {
        Checkpoint(pid: 4242, kernel: "6.18.44", threads: [4242], timers: timers)
    }

    /// IDs 0, 3 and 7 (7 armed) on every profile by every strategy.
    func testOutcomesAndCountsPerProfileAndStrategy() {
        let matrix = CompareMatrix.run(Self.checkpoint([Self.timer(0), Self.timer(3), Self.timer(7, armed: true)]),
                                       machines: ModelKernel.everyProfile())
        XCTAssertEqual(matrix.rows.count, 15)
        struct Expected: Equatable, CustomStringConvertible {
            var outcome: String, create: Int, delete: Int, settime: Int, prctl: Int, sysctl: Int
            var description: String { "\(outcome) c\(create) d\(delete) s\(settime) p\(prctl) w\(sysctl)" }
        }
        let reused = "IDs reused: dance to ID 3: got ID 1 where 2 was next"
        let noCursor = "no cursor sysctl (ENOENT)"
        let noCreateAtID = "no create-at-ID: prctl EINVAL"
        // The dance: 8 creates (IDs 0...7), 5 deletes (1, 2, 4, 5, 6), then one settime.
        let dance = Expected(outcome: "verified", create: 8, delete: 5, settime: 1, prctl: 0, sysctl: 0)
        // Where freed IDs come back, the dance creates 0, 1, deletes 1, gets 1 again: stop (and delete it).
        let danceBreaks = Expected(outcome: reused, create: 3, delete: 2, settime: 0, prctl: 0, sysctl: 0)
        let cursorFails = Expected(outcome: noCursor, create: 0, delete: 0, settime: 0, prctl: 0, sysctl: 1)
        let createAtIDFails = Expected(outcome: noCreateAtID, create: 0, delete: 0, settime: 0, prctl: 1, sysctl: 0)
        let createAtID = Expected(outcome: "verified", create: 3, delete: 0, settime: 1, prctl: 2, sysctl: 0)
        let cursor = Expected(outcome: "verified", create: 3, delete: 0, settime: 1, prctl: 0, sysctl: 3)
        let expected: [String: [Expected]] = [
            "linux-2.6": [danceBreaks, cursorFails, createAtIDFails],
            "linux-3.10": [dance, cursorFails, createAtIDFails],
            "linux-6.15": [dance, cursorFails, createAtID],
            "rfd-cursor": [dance, cursor, createAtIDFails],
            "rfd-dense": [danceBreaks, cursorFails, createAtID],
        ]
        for row in matrix.rows {
            let index = [RestoreStrategy.dance, .cursor, .createAtID].firstIndex(of: row.strategy)!
            let got = Expected(outcome: row.outcome, create: row.syscalls.timerCreate, delete: row.syscalls.timerDelete,
                               settime: row.syscalls.timerSettime, prctl: row.syscalls.prctl,
                               sysctl: row.syscalls.sysctlWrite)
            XCTAssertEqual(got, expected[row.kernel]?[index], "\(row.kernel) \(row.strategy.rawValue)")
            XCTAssertTrue(row.wasRun)
            XCTAssertNotNil(row.modelNanoseconds)
            XCTAssertEqual(row.projectedNanoseconds,
                           SyscallCosts.measured618.projectedNanoseconds(row.syscalls, strategy: row.strategy))
        }
        XCTAssertEqual(matrix.rows.map(\.kernel), KernelProfile.allCases.flatMap { Array(repeating: $0.rawValue, count: 3) })
    }

    func testAutoRowsNameWhatTheyResolvedTo() {
        let matrix = CompareMatrix.run(Self.checkpoint([Self.timer(5)]), machines: ModelKernel.everyProfile(),
                                       strategies: [.auto])
        XCTAssertEqual(matrix.rows.map(\.usedStrategy), [.dance, .dance, .createAtID, .cursor, .createAtID])
        XCTAssertEqual(matrix.rows.map(\.ok), [false, true, true, true, true])
    }

    /// A dance projected from a gap-shrunk copy counts exactly what running it does.
    func testProjectedDanceCountsExactlyWhatARunDoes() {
        let kernel = ModelKernel.everyProfile()[1]  // linux-3.10
        let checkpoints = [
            Self.checkpoint([Self.timer(0), Self.timer(3), Self.timer(700, armed: true), Self.timer(2500)]),
            Self.checkpoint([Self.timer(1999), Self.timer(2000), Self.timer(2001)]),
            // Fails at the alarm timer (no RTC): EOPNOTSUPP after dancing to 1000.
            Self.checkpoint([Self.timer(0), Self.timer(1000), Self.timer(50_000, clock: .realtimeAlarm)]),
        ]
        for checkpoint in checkpoints {
            let run = CompareMatrix.row(checkpoint, on: kernel, strategy: .dance, costs: .measured618, runLimit: nil)
            let projected = CompareMatrix.row(checkpoint, on: kernel, strategy: .dance, costs: .measured618, runLimit: 100)
            XCTAssertTrue(run.wasRun)
            XCTAssertFalse(projected.wasRun)
            XCTAssertNil(projected.modelNanoseconds)
            XCTAssertEqual(projected.syscalls, run.syscalls, "\(checkpoint.timers.map(\.id))")
            XCTAssertEqual(projected.ok, run.ok)
            // A projection verified nothing: it says so where the run says verified.
            XCTAssertEqual(projected.outcome, run.outcome == "verified" ? "projected" : run.outcome)
            XCTAssertEqual(projected.projectedNanoseconds, run.projectedNanoseconds)
        }
        let failing = CompareMatrix.row(checkpoints[2], on: kernel, strategy: .dance, costs: .measured618, runLimit: 100)
        XCTAssertEqual(failing.outcome, "timer_create(id=50000): EOPNOTSUPP")
        XCTAssertEqual(failing.syscalls.timerCreate, 1002)
        XCTAssertEqual(failing.syscalls.timerDelete, 999)
    }

    func testDanceToIntMaxIsProjectedNotRun() {
        let checkpoint = Self.checkpoint([Self.timer(0), Self.timer(7), Self.timer(Int32.max)])
        let matrix = CompareMatrix.run(checkpoint, machines: ModelKernel.everyProfile(), strategies: [.dance])
        XCTAssertEqual(matrix.rows.map(\.wasRun), [true, false, false, false, true])
        for row in matrix.rows where !row.wasRun {
            XCTAssertTrue(row.ok, row.outcome)
            XCTAssertEqual(row.syscalls.timerCreate, Int(Int32.max) + 1)
            XCTAssertEqual(row.syscalls.timerDelete, Int(Int32.max) + 1 - 3)
        }
        let text = matrix.text(checkpointName: "c.json")
        XCTAssertTrue(text.contains("projected, not run: 3 dance row(s)"), text)
    }

    func testSweepOnFewPoints() {
        let sweep = Sweep.run(strategies: [.dance, .cursor, .createAtID], machine: ModelKernel.sweepMachine(for:),
                              costs: .measured618, runLimit: 1 << 20, singleIDs: [10, 10_000_000], denseCounts: [1, 100])
        XCTAssertEqual(sweep.points.count, 12)
        XCTAssertTrue(sweep.points.allSatisfy(\.row.ok), sweep.text())
        let dance = sweep.series(.dance, dense: false)
        XCTAssertEqual(dance.map(\.row.wasRun), [true, false])
        XCTAssertEqual(dance.map(\.row.syscalls.timerCreate), [11, 10_000_001])
        XCTAssertEqual(dance.map(\.row.kernel), ["linux-3.10", "linux-3.10"])
        XCTAssertEqual(sweep.series(.cursor, dense: true).map(\.row.syscalls.sysctlWrite), [1, 1], "consecutive IDs: one cursor write")
        XCTAssertEqual(sweep.series(.createAtID, dense: true).map(\.row.syscalls.timerCreate), [1, 100])
        XCTAssertEqual(sweep.series(.dance, dense: true).map(\.row.syscalls.timerDelete), [0, 0])
    }
}
