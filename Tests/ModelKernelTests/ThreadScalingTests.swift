import Foundation
import TimerCore
import XCTest
@testable import ModelKernel

/// good_sigevent()'s "is this tid one of ours" is a set
/// lookup, so creating one thread_id timer per thread is linear in threads
/// (the array search made 96,000 threads take 3.4 s against 0.17 s at 12,000).
final class ThreadScalingTests: XCTestCase {
    func secondsToCreateOneTimerPerThread(_ threads: Int) throws -> Double {
        let process = ModelKernel(profile: .linux615, sigpendingLimit: Int(Int32.max))
            .spawnProcess(extraThreads: threads - 1)
        let start = DispatchTime.now().uptimeNanoseconds
        for tid in process.threadIDs.reversed() {
            let sigevent = Sigevent(.threadID, signal: 14, threadID: tid)
            _ = try process.timerCreate(clock: .monotonic, sigevent: sigevent, idBuffer: 0)
            // A per-thread CPU clock of the same thread: the other tid lookup.
            _ = try process.timerCreate(clock: .cpuClock(pid: tid, perThread: true, type: .sched), sigevent: sigevent, idBuffer: 0)
        }
        XCTAssertEqual(process.liveTimerCount, 2 * threads)
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    func testThreadIDTimersAreLinearInThreads() throws {
        _ = try secondsToCreateOneTimerPerThread(500) // warm up
        let small = try secondsToCreateOneTimerPerThread(2_000)
        let large = try secondsToCreateOneTimerPerThread(40_000)
        // 20 times the threads: linear is about 20 times the time, quadratic 400.
        XCTAssertLessThan(large / small, 100, "2,000 threads: \(small) s, 40,000: \(large) s")
    }
}
