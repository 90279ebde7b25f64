import Foundation
import ModelKernel
import TestSupport
import HostKernel
import TimerCore
import TimerFormats
import TimerComparison
import XCTest

/// The real CRIU fixture restored on the model by each strategy,
/// verified through the model's /proc (exact syscall counts).
final class CRIURestoreTests: XCTestCase {
    static let fixture = BuiltProducts.repositoryRoot + "/Tests/Fixtures/criu/timers-case1"

    func restore(_ profile: KernelProfile, _ strategy: RestoreStrategy) throws -> RestoreReport {
        let checkpoint = try CheckpointSource.load(path: Self.fixture)
        let machine = ModelKernel(profile: profile)
        let process = machine.spawnProcess(extraThreads: RestorePlan.requiredExtraThreads(for: checkpoint))
        return Restorer.restore(checkpoint, into: process, options: .init(strategy: strategy))
    }

    func testCreateAtIDOnLinux615() throws {
        let report = try restore(.linux615, .createAtID)
        XCTAssertNil(report.error, report.error?.message ?? "")
        XCTAssertEqual(report.timers.map(\.id), [0, 7, 99, 123456, 2147483647])
        XCTAssertEqual(report.syscalls.timerCreate, 5)
        XCTAssertEqual(report.syscalls.prctl, 2)
        XCTAssertEqual(report.syscalls.timerSettime, 3)  // IDs 0, 7, 99 were armed
        // The thread_id timer is aimed at the restored process's second thread.
        let threadTimer = try XCTUnwrap(report.timers.first { $0.id == 99 })
        XCTAssertEqual(threadTimer.notify, .threadID)
        XCTAssertEqual(threadTimer.notifyTarget, report.threadIDs[1])
        XCTAssertEqual(threadTimer.intervalNanoseconds, 1_000_000_000)
    }

    func testCursorOnRFDCursor() throws {
        let report = try restore(.rfdCursor, .cursor)
        XCTAssertNil(report.error, report.error?.message ?? "")
        XCTAssertEqual(report.syscalls.sysctlWrite, 5)
        XCTAssertEqual(report.syscalls.timerCreate, 5)
        XCTAssertEqual(report.timers.count, 5)
    }

    func testAutoPicksTheCheapestEverywhere() throws {
        for (profile, used) in [(KernelProfile.linux615, RestoreStrategy.createAtID), (.rfdDense, .createAtID),
                                (.rfdCursor, .cursor)] {
            let report = try restore(profile, .auto)
            XCTAssertNil(report.error, "\(profile): \(report.error?.message ?? "")")
            XCTAssertEqual(report.strategy, used, "\(profile)")
        }
    }

    /// The dance where IDs are reused stops at the second timer, saying why.
    func testDanceBreaksOnLowestFreeKernels() throws {
        for profile in [KernelProfile.linux26, .rfdDense] {
            let report = try restore(profile, .dance)
            XCTAssertEqual(report.error?.code, .idsNotConsecutive, "\(profile)")
            XCTAssertEqual(report.timers.map(\.id), [0], "\(profile): only ID 0 exists afterwards")
        }
    }

    /// The dance to ID 2147483647: 2^31 creates. Minutes in a release build,
    /// hours in a debug one, so it runs the release binary (.ci/run builds it).
    func testDanceToINTMAXWithTheReleaseBinary() throws {
        let release = BuiltProducts.repositoryRoot + "/.build/release/timer-criu"
        guard FileManager.default.isExecutableFile(atPath: release) else {
            throw XCTSkip("needs \(release): run `swift build -c release` first (the dance to INT_MAX takes hours in a debug build)")
        }
        let result = try runCommand(release, ["restore", Self.fixture, "--kernel", "linux-3.10", "--strategy", "dance", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr + result.stdoutText.prefix(2000))
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        XCTAssertEqual(json["ok"] as? Bool, true)
        let syscalls = try XCTUnwrap(json["syscalls"] as? [String: Any])
        XCTAssertEqual(syscalls["timer_create"] as? Int, 2_147_483_648)
        XCTAssertEqual(syscalls["timer_delete"] as? Int, 2_147_483_648 - 5)
        let timers = try XCTUnwrap(json["timers"] as? [[String: Any]])
        XCTAssertEqual(timers.compactMap { $0["id"] as? Int }, [0, 7, 99, 123456, 2147483647])
    }
}
