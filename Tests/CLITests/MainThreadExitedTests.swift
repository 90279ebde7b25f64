import Foundation
import HostKernel
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

    func leaderState() -> String? { ProcFSState.leader(of: fixture.pid) }

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
        XCTAssertEqual(result.stderrLines, ["timer-criu: dumped 1 process(es), 2 timer(s) into \(directory)", itimersNotReadNote])
        let restored = try runTimerCRIU(["restore", directory])
        XCTAssertEqual(restored.status, 0, restored.stderr + restored.stdoutText)
    }

    /// Its timerfds: /proc/PID/fd of a zombie leader is empty (its files went
    /// with it), so dump reads /proc/PID/task/TID/fd of a live thread; and
    /// restore --into such a process places and verifies them through it.
    func testTimerFDsAreDumpedAndRestoredThroughALiveThread() throws {
        func started(_ arguments: [String]) throws -> FixtureProcess {
            let process = try FixtureProcess(["--main-exits"] + arguments)
            let deadline = Date().addingTimeInterval(10)
            while ProcFSState.leader(of: process.pid) != "Z" {
                guard Date() < deadline else { throw TestSupportError("leader of \(process.pid) never became Z") }
                usleep(1_000)
            }
            return process
        }
        let source = try started(["id=3,arm=50s", "--timerfd", "fd=7,clock=monotonic,arm=40s,interval=1s",
                                  "--timerfd", "fd=9,clock=boottime,flags=nonblock+cloexec", "--itimer", "which=real,arm=60s"])
        defer { source.stop() }
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(source.pid)/fd"))?.count ?? 0, 0,
                       "a zombie leader's fd/ is empty")
        let plain = try runTimerCRIU(["dump", "\(source.pid)"])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertEqual(try Checkpoint(json: Array(plain.stdout)).timerFDs?.map(\.fd), [7, 9])

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tc-zombie-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let dump = try runTimerCRIU(["dump", "\(source.pid)", "--values", "-o", path])
        if dump.status == 4 { throw XCTSkip("ptrace not allowed here: \(dump.stderr)") }
        XCTAssertEqual(dump.status, 0, dump.stderr)
        let target = try started(["id=5"])
        defer { target.stop() }
        let restore = try runTimerCRIU(["restore", path, "--into", "\(target.pid)"])
        XCTAssertEqual(restore.status, 0, restore.stderr + restore.stdoutText)
        XCTAssertTrue(restore.stdoutText.contains(
            "verified: /proc/\(target.pid)/timers matches the checkpoint, and so do the fdinfo of its 2 timerfd(s) and getitimer of its 3 itimers"),
            restore.stdoutText)
        let thread = try XCTUnwrap(target.threads.first)
        let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(target.pid)/task/\(thread)/fd")
        XCTAssertTrue(Set(fds).isSuperset(of: ["7", "9"]), "\(fds)")
    }
}

/// The one-letter state of a process's main thread.
enum ProcFSState {
    static func leader(of pid: Int32) -> String? {
        ProcFS.status(pid: pid)?.state.map(String.init)
    }
}
