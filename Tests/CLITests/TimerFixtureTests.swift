import Foundation
import HostKernel
import TestSupport
import XCTest

/// The timer fixture does exactly what it is told, and says so when the
/// kernel refuses.
final class TimerFixtureTests: XCTestCase {
    func testCreateAtATakenIDFailsWithEBUSY() throws {
        let result = try runCommand(try BuiltProducts.path("timer-fixture"), ["id=5", "id=5"])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stdoutText, "timer 5\n")
        XCTAssertEqual(result.stderr, "timer-fixture: timer_create(id=5): EBUSY: ID already in use\n")
    }

    func testBadSpecIsAUsageError() throws {
        let result = try runCommand(try BuiltProducts.path("timer-fixture"), ["id=5,colour=red"])
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.hasPrefix("timer-fixture: unknown key \"colour\"\nusage: timer-fixture"), result.stderr)
    }

    /// An armed timer fires into a blocked signal: it stays pending and the
    /// fixture lives on.
    func testArmedTimerSignalStaysPending() throws {
        let fixture = try FixtureProcess(["id=3,signal=40,arm=1ms,interval=1ms"])
        defer { fixture.stop() }
        var pending: UInt64 = 0
        for _ in 0..<200 {
            let status = try XCTUnwrap(ProcFS.status(pid: fixture.pid), "/proc/\(fixture.pid)/status")
            pending = UInt64(status["ShdPnd"] ?? "", radix: 16) ?? 0
            if pending != 0 { break }
            usleep(5_000)
        }
        XCTAssertEqual(pending, 1 << (40 - 1), "signal 40 pending")
        XCTAssertTrue(fixture.process.isRunning)
    }

    /// count=N with an id makes consecutive IDs (for large fixtures).
    func testCountMakesConsecutiveIDs() throws {
        let fixture = try FixtureProcess(["id=1000,count=3,notify=none"])
        defer { fixture.stop() }
        XCTAssertEqual(fixture.timerIDs, [1000, 1001, 1002])
        let text = try String(contentsOfFile: "/proc/\(fixture.pid)/timers", encoding: .utf8)
        XCTAssertEqual(text.split(separator: "\n").filter { $0.hasPrefix("ID: ") }, ["ID: 1002", "ID: 1001", "ID: 1000"])
    }

    /// delete=1 leaves a hole in the IDs without create-at-ID (what the
    /// kernel-oracle's fixture needs on Linux 6.1): the counter does not go back.
    func testDeleteLeavesAHoleInTheIDs() throws {
        let fixture = try FixtureProcess(["clock=monotonic", "clock=realtime,count=4,delete=1", "notify=none"])
        defer { fixture.stop() }
        XCTAssertEqual(fixture.timerIDs, [0, 5])
        let text = try String(contentsOfFile: "/proc/\(fixture.pid)/timers", encoding: .utf8)
        XCTAssertEqual(text.split(separator: "\n").filter { $0.hasPrefix("ID: ") }, ["ID: 5", "ID: 0"])
        let bad = try runCommand(try BuiltProducts.path("timer-fixture"), ["delete=yes"])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.hasPrefix("timer-fixture: delete=yes: only delete=1 or delete=0\n"), bad.stderr)
    }
}
