import Foundation
import HostKernel
import TestSupport
import TimerCore
import TimerComparison
import XCTest

/// `dump --values` against a timer list that changed after it was read: a
/// listed timer deleted before the injection answers EINVAL, and the list
/// and values are read again, a bounded number of times.
/// The listing is played by a closure over a real process, so each outcome
/// is certain.
final class DumpWithValuesRetryTests: XCTestCase {
    var fixture: FixtureProcess!

    override func setUpWithError() throws {
        fixture = try FixtureProcess(["id=3,clock=monotonic,arm=100s"])
    }

    override func tearDown() {
        fixture?.stop()
        fixture = nil
    }

    /// The real listing plus a timer that does not exist (deleted meanwhile).
    func listing(withGhost ghost: Bool) throws(ProcReadError) -> Checkpoint {
        var checkpoint = try ProcFS.checkpoint(pid: fixture.pid)
        if ghost {
            checkpoint.timers.append(CheckpointTimer(id: 999_999, clockID: .monotonic, signal: 14, sigevValue: 0,
                                                     notify: .signal, notifyTarget: fixture.pid))
        }
        return checkpoint
    }

    /// Runs checkpointWithValues with `stale(call)` deciding each listing.
    func run(_ stale: @escaping (Int) -> Bool) throws -> (Result<Checkpoint, DumpWithValuesError>, calls: Int) {
        var calls = 0
        let pid = fixture.pid
        let result: Result<Checkpoint, DumpWithValuesError>
        do {
            result = .success(try TimerValueReader.checkpointWithValues(pid: pid) { () throws(ProcReadError) -> Checkpoint in
                calls += 1
                return try self.listing(withGhost: stale(calls))
            })
        } catch {
            if case .values(.permissionDenied(_, _, let reason)) = error { throw XCTSkip("ptrace not permitted here: \(reason)") }
            result = .failure(error)
        }
        return (result, calls)
    }

    func testAListingThatWentStaleIsReadAgain() throws {
        let (result, calls) = try run { $0 < 3 }
        XCTAssertEqual(calls, 3)
        let checkpoint = try result.get()
        XCTAssertEqual(checkpoint.timers.map(\.id), [3])
        XCTAssertGreaterThan(checkpoint.timers[0].valueNanoseconds ?? 0, 90_000_000_000)
    }

    func testTimersThatKeepChangingGiveUpAfterTheBound() throws {
        let (result, calls) = try run { _ in true }
        XCTAssertEqual(calls, TimerValueReader.listingAttempts)
        guard case let .failure(error) = result else { return XCTFail("a listing stale every time must not succeed") }
        XCTAssertEqual(error, .values(.timersKeptChanging(pid: fixture.pid, timerID: 999_999,
                                                          attempts: TimerValueReader.listingAttempts)))
        XCTAssertEqual(error.description, "process \(fixture.pid): its timers kept changing: a listed timer (last ID 999999) "
            + "was deleted before its values were read, on each of 5 tries")
    }

    /// The CLI against a process that really churns: never exit 1, and the
    /// message names the process once.
    func testChurningProcessExitsZeroOrThree() throws {
        fixture.stop()
        fixture = try FixtureProcess(["--churn", "id=3,clock=monotonic,arm=100s"])
        for _ in 0..<3 {
            let result = try runTimerCRIU(["dump", "\(fixture.pid)", "--values"])
            if result.status == 4 { throw XCTSkip("ptrace not permitted here: \(result.stderr)") }
            XCTAssertTrue([0, 3].contains(result.status), result.stderr)
            if result.status == 3 {
                XCTAssertEqual(result.stderrLines.count, 1, result.stderr)
                XCTAssertTrue(result.stderr.contains("its timers kept changing"), result.stderr)
                XCTAssertEqual(result.stderr.components(separatedBy: "process \(fixture.pid)").count, 2, result.stderr)
            } else {
                XCTAssertTrue(try Checkpoint(json: Array(result.stdout)).timers.contains { $0.id == 3 })
            }
        }
    }
}
