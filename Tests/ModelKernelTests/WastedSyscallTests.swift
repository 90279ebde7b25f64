import ModelKernel
import TimerCore
import TimerFormats
import TimerComparison
import XCTest

/// Exact syscall counts where a strategy used to waste calls:
/// an empty checkpoint costs nothing; the cursor is written only when
/// the kernel's counter does not already point at the next wanted ID.
final class WastedSyscallTests: XCTestCase {
    func restore(_ ids: [Int32], profile: KernelProfile, strategy: RestoreStrategy) -> RestoreReport {
        let checkpoint = Checkpoint(pid: 500, kernel: "x", threads: [500], timers: ids.map {
            CheckpointTimer(id: $0, clockID: .monotonic, signal: 14, sigevValue: 0, notify: .signal, notifyTarget: 500)
        })
        let process = ModelKernel(profile: profile).spawnProcess(extraThreads: 0)
        return Restorer.restore(checkpoint, into: process, options: .init(strategy: strategy))
    }

    func testEmptyCheckpointMakesNoSyscall() {
        for (profile, strategy) in [(KernelProfile.linux615, RestoreStrategy.createAtID), (.linux615, .auto),
                                    (.rfdCursor, .cursor), (.linux310, .dance)] {
            let report = restore([], profile: profile, strategy: strategy)
            XCTAssertTrue(report.ok, "\(profile) \(strategy): \(report.error?.message ?? "")")
            XCTAssertEqual(report.syscalls, SyscallCounts(), "\(profile) \(strategy)")
        }
    }

    func testCursorIsWrittenOnceForConsecutiveIDs() {
        let report = restore(Array(0..<5_000), profile: .rfdCursor, strategy: .cursor)
        XCTAssertTrue(report.ok, report.error?.message ?? "")
        XCTAssertEqual(report.syscalls.sysctlWrite, 1)
        XCTAssertEqual(report.syscalls.timerCreate, 5_000)
        XCTAssertEqual(report.syscalls.total, 5_001)
    }

    func testCursorIsWrittenAtEveryGap() {
        // Runs 0-2, 10-11, 100: three writes; 2147483647 then 0 would wrap, so INT_MAX alone is one more.
        let report = restore([0, 1, 2, 10, 11, 100, 2_147_483_647], profile: .rfdCursor, strategy: .cursor)
        XCTAssertTrue(report.ok, report.error?.message ?? "")
        XCTAssertEqual(report.syscalls.sysctlWrite, 4)
        XCTAssertEqual(report.syscalls.timerCreate, 7)
    }

    func testCreateAtIDStillSwitchesTheModeForTimers() {
        let report = restore([5, 9], profile: .linux615, strategy: .createAtID)
        XCTAssertTrue(report.ok, report.error?.message ?? "")
        XCTAssertEqual(report.syscalls.prctl, 2)
        XCTAssertEqual(report.syscalls.timerCreate, 2)
    }
}
