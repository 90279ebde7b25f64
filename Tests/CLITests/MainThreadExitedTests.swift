import Foundation
import TestSupport
import TimerCore
import TimerComparison
import XCTest

/// A process whose `main` called pthread_exit while another thread runs: the
/// leader's /proc/PID/status says `Z`, yet the thread group lives and owns its
/// timers. dump, dump --values and dump --tree must dump it.
final class MainThreadExitedTests: XCTestCase {
    var fixture: FixtureProcess!

    override func setUpWithError() throws {
        fixture = try FixtureProcess([
            "--main-exits",
            "id=0,clock=monotonic,signal=14,value=0x1111,arm=100s,interval=5s",
            "id=7,clock=realtime,notify=thread_id,target=thread1,signal=40,arm=200s",
        ])
        // Await the leader's exit (it calls pthread_exit right after `ready`).
        let deadline = Date().addingTimeInterval(10)
        while leaderState() != "Z" {
            guard Date() < deadline else { throw TestSupportError("leader of \(fixture.pid) never became Z") }
            usleep(1_000)
        }
    }

    override func tearDown() {
        fixture?.stop()
        fixture = nil
        super.tearDown()
    }

    func leaderState() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/\(fixture.pid)/status", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("State:") }
            .map { String($0.dropFirst("State:".count).drop { $0 == " " || $0 == "\t" }.prefix(1)) }
    }

    func testDump() throws {
        let result = try runTimerCRIU(["dump", "\(fixture.pid)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let checkpoint = try Checkpoint(json: Array(result.stdout))
        XCTAssertEqual(checkpoint.pid, fixture.pid)
        XCTAssertEqual(checkpoint.timers.map(\.id), [0, 7])
        XCTAssertEqual(checkpoint.threads, [fixture.pid] + fixture.threads)
    }

    func testDumpValuesInjectsThroughALiveThread() throws {
        let result = try runTimerCRIU(["dump", "\(fixture.pid)", "--values"])
        if result.status == 4 { throw XCTSkip("ptrace not allowed here: \(result.stderr)") }
        XCTAssertEqual(result.status, 0, result.stderr)
        let checkpoint = try Checkpoint(json: Array(result.stdout))
        XCTAssertEqual(checkpoint.timers.map(\.intervalNanoseconds), [5_000_000_000, 0])
        let left = checkpoint.timers.compactMap(\.valueNanoseconds)
        XCTAssertEqual(left.count, 2)
        XCTAssertTrue(left[0] > 90_000_000_000 && left[0] <= 100_000_000_000, "\(left)")
        XCTAssertTrue(left[1] > 190_000_000_000 && left[1] <= 200_000_000_000, "\(left)")
        // Left running and untraced, the leader still a zombie, the thread alive.
        let status = try String(contentsOfFile: "/proc/\(fixture.threads[0])/status", encoding: .utf8)
        XCTAssertTrue(status.contains("TracerPid:\t0\n"), status)
        XCTAssertFalse(status.contains("State:\tZ"), status)
    }

    func testDumpTree() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tc-mte-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try runTimerCRIU(["dump", "--tree", "\(fixture.pid)", "-o", directory])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderrLines, ["timer-criu: dumped 1 process(es), 2 timer(s) into \(directory)"])
        let restored = try runTimerCRIU(["restore", directory])
        XCTAssertEqual(restored.status, 0, restored.stderr + restored.stdoutText)
    }
}
