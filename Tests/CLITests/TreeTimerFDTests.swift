import Foundation
import TestSupport
import TimerCore
import XCTest

/// dump --tree of a process and the child it forked after creating its
/// timerfds: each is one open file in both (fdinfo's `ino` is the same for
/// every timerfd; kcmp(KCMP_FILE) across the two pids tells), warned in both.
final class TreeTimerFDTests: XCTestCase {
    func testATimerFDInheritedAcrossForkIsWarnedInBothProcesses() throws {
        let parent = try FixtureProcess(["--fork", "--timerfd", "fd=7,clock=monotonic,arm=40s",
                                         "--timerfd", "fd=9,clock=boottime"])
        defer { parent.stop() }
        let child = try XCTUnwrap(parent.child)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tc-tree-tfd-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dump = try runTimerCRIU(["dump", "--tree", "\(parent.pid)", "-o", dir])
        XCTAssertEqual(dump.status, 0, dump.stderr)
        let warnings = dump.stderrLines.filter { $0.contains("warning:") }
        XCTAssertEqual(warnings, [
            "timer-criu: warning: process \(parent.pid): timerfd 7 is one timer with fd 7 of process \(child) (inherited across fork or passed): restored as separate timers",
            "timer-criu: warning: process \(parent.pid): timerfd 9 is one timer with fd 9 of process \(child) (inherited across fork or passed): restored as separate timers",
            "timer-criu: warning: process \(child): timerfd 7 is one timer with fd 7 of process \(parent.pid) (inherited across fork or passed): restored as separate timers",
            "timer-criu: warning: process \(child): timerfd 9 is one timer with fd 9 of process \(parent.pid) (inherited across fork or passed): restored as separate timers",
        ])
        // The warnings are in the checkpoints too, for restore to repeat.
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0 != "index.json" }
        var warned = 0
        for file in files {
            let checkpoint = try Checkpoint(json: Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + file))))
            warned += checkpoint.warnings.filter { $0.contains("inherited across fork or passed") }.count
        }
        XCTAssertEqual(warned, 4, "\(files)")
    }
}
