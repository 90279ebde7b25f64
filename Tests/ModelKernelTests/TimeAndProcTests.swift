import XCTest
import TimerCore
import TimerComparison
@testable import ModelKernel

final class TimeAndProcTests: XCTestCase {
    func testProcRenderingNewestFirstByteForByte() throws {
        let kernel = ModelKernel(profile: .linux615)
        let p = kernel.spawnProcess(extraThreads: 1)
        let pid = p.processID, tid = p.threadIDs[1]
        XCTAssertEqual(try p.timerCreate(clock: .realtime, sigevent: nil), 0)
        XCTAssertEqual(try p.timerCreate(clock: .processCPUTimeRequest,
                                         sigevent: Sigevent(.threadID, signal: 40, value: 0xdeadbeef, threadID: tid)), 1)
        XCTAssertEqual(try p.timerCreate(clock: .threadCPUTimeRequest, sigevent: Sigevent(.none, signal: -1)), 2)
        XCTAssertEqual(try p.timerCreate(clock: ClockID(-14), sigevent: Sigevent(.thread, signal: 10, value: .max)), 3)
        try p.timerDelete(1)
        XCTAssertEqual(try p.timerCreate(clock: .boottime, sigevent: Sigevent(.signal, signal: 64, value: 1)), 4)
        let text = String(decoding: try p.readProcTimers(), as: UTF8.self)
        XCTAssertEqual(text, """
            ID: 4
            signal: 64/0000000000000001
            notify: signal/pid.\(pid)
            ClockID: 7
            ID: 3
            signal: 10/ffffffffffffffff
            notify: thread/pid.\(pid)
            ClockID: -14
            ID: 2
            signal: -1/0000000000000000
            notify: none/pid.\(pid)
            ClockID: -2
            ID: 0
            signal: 14/0000000000000000
            notify: signal/pid.\(pid)
            ClockID: 0

            """)
        // A tid target shows as signal/tid.N; the parser reads the model back.
        _ = try p.timerCreate(clock: .realtime, sigevent: Sigevent(.threadID, signal: 40, value: 0xdeadbeef, threadID: tid))
        let parsed = try ProcTimersParser.parse(try p.readProcTimers())
        XCTAssertEqual(parsed.first, ProcTimer(id: 5, signal: 40, sigevValue: 0xdeadbeef, notify: .threadID,
                                               notifyTarget: tid, clockID: .realtime))
        XCTAssertEqual(parsed.map(\.id), [5, 4, 3, 2, 0])
    }

    func testNullSigeventUsesTheNewIDAsSival() throws {
        let p = ModelKernel(profile: .linux615).spawnProcess()
        try p.prctlRestoreIDs(.on)
        _ = try p.timerCreate(clock: .realtime, sigevent: nil, idBuffer: 0x1234)
        XCTAssertEqual(p.procTimers(), [ProcTimer(id: 0x1234, signal: 14, sigevValue: 0x1234, notify: .signal,
                                                  notifyTarget: p.processID, clockID: .realtime)])
    }

    func testSettimeValidationAndGettime() throws {
        let p = ModelKernel(profile: .linux615).spawnProcess()
        let id = try p.timerCreate(clock: .monotonic, sigevent: nil)
        XCTAssertEqual(try p.timerGettime(id), .disarmed)
        XCTAssertThrowsError(try p.timerSettime(id, absolute: false, TimerValue(valueNanoseconds: -1, intervalNanoseconds: 0))) {
            XCTAssertEqual($0 as? KernelErrno, .EINVAL)
        }
        XCTAssertThrowsError(try p.timerSettime(id, absolute: false, TimerValue(valueNanoseconds: 5, intervalNanoseconds: -1))) {
            XCTAssertEqual($0 as? KernelErrno, .EINVAL)
        }
        for call in [{ _ = try p.timerGettime(-1) }, { try p.timerDelete(-1) }, { _ = try p.timerGetoverrun(Int32.min) },
                     { try p.timerSettime(-1, absolute: false, .disarmed) }, { _ = try p.timerGettime(12345) }, { try p.timerDelete(12345) }, { _ = try p.timerGetoverrun(12345) },
                     { try p.timerSettime(12345, absolute: false, .disarmed) }] {
            XCTAssertThrowsError(try call()) { XCTAssertEqual($0 as? KernelErrno, .EINVAL) }
        }
        let old = try p.timerSettime(id, absolute: false, TimerValue(valueNanoseconds: 3_000, intervalNanoseconds: 1_000))
        XCTAssertEqual(old, .disarmed)
        XCTAssertEqual(try p.timerGettime(id), TimerValue(valueNanoseconds: 3_000, intervalNanoseconds: 1_000))
        // Disarming drops the interval too (posix_timer_set_common).
        let previous = try p.timerSettime(id, absolute: false, TimerValue(valueNanoseconds: 0, intervalNanoseconds: 7))
        XCTAssertEqual(previous, TimerValue(valueNanoseconds: 3_000, intervalNanoseconds: 1_000))
        XCTAssertEqual(try p.timerGettime(id), .disarmed)
    }

    func testVirtualTimeFiresAndCountsOverruns() throws {
        let kernel = ModelKernel(profile: .linux615)
        let p = kernel.spawnProcess()
        let periodic = try p.timerCreate(clock: .monotonic, sigevent: nil)
        let oneShot = try p.timerCreate(clock: .realtime, sigevent: nil)
        try p.timerSettime(periodic, absolute: false, TimerValue(valueNanoseconds: 100, intervalNanoseconds: 10))
        try p.timerSettime(oneShot, absolute: false, TimerValue(valueNanoseconds: 50, intervalNanoseconds: 0))

        p.advanceTime(byNanoseconds: 49)
        XCTAssertEqual(p.expiriesDelivered, 0)
        XCTAssertEqual(try p.timerGettime(oneShot), TimerValue(valueNanoseconds: 1, intervalNanoseconds: 0))
        p.advanceTime(byNanoseconds: 1)
        XCTAssertEqual(p.expiriesDelivered, 1)
        XCTAssertEqual(try p.timerGettime(oneShot), .disarmed)

        // t=100 first expiry of the periodic one; advance to 135: expiries at
        // 100, 110, 120, 130 collapse into one delivery with 3 overruns.
        p.advanceTime(byNanoseconds: 85)
        XCTAssertEqual(kernel.now, 135)
        XCTAssertEqual(p.expiriesDelivered, 2)
        XCTAssertEqual(try p.timerGetoverrun(periodic), 3)
        XCTAssertEqual(try p.timerGettime(periodic), TimerValue(valueNanoseconds: 5, intervalNanoseconds: 10))
        p.advanceTime(byNanoseconds: 5)
        XCTAssertEqual(try p.timerGetoverrun(periodic), 0)
        XCTAssertEqual(p.expiriesDelivered, 3)

        // Overrun is clamped to INT_MAX.
        try p.timerSettime(periodic, absolute: false, TimerValue(valueNanoseconds: 1, intervalNanoseconds: 1))
        p.advanceTime(byNanoseconds: 5_000_000_000)
        XCTAssertEqual(try p.timerGetoverrun(periodic), Int32.max)
        XCTAssertTrue(p.restoreOverrun(periodic, count: 17))
        XCTAssertEqual(try p.timerGetoverrun(periodic), 17)
        XCTAssertFalse(p.restoreOverrun(999, count: 1))
    }

    func testAbsoluteArmingIsOnTheVirtualClock() throws {
        let kernel = ModelKernel(profile: .linux615)
        let p = kernel.spawnProcess()
        let id = try p.timerCreate(clock: .realtime, sigevent: nil)
        kernel.advanceTime(byNanoseconds: 1_000)
        try p.timerSettime(id, absolute: true, TimerValue(valueNanoseconds: 1_500, intervalNanoseconds: 0))
        XCTAssertEqual(try p.timerGettime(id), TimerValue(valueNanoseconds: 500, intervalNanoseconds: 0))
        // An absolute time already past fires at once.
        try p.timerSettime(id, absolute: true, TimerValue(valueNanoseconds: 200, intervalNanoseconds: 300))
        XCTAssertEqual(p.expiriesDelivered, 1)
        XCTAssertEqual(try p.timerGetoverrun(id), 2)   // 200 delivered, 500 and 800 missed
        XCTAssertEqual(try p.timerGettime(id), TimerValue(valueNanoseconds: 100, intervalNanoseconds: 300))
    }

    func testDeletingArmedTimersKeepsTimeCheap() throws {
        let p = ModelKernel(profile: .linux615).spawnProcess()
        let a = try p.timerCreate(clock: .realtime, sigevent: nil)
        let b = try p.timerCreate(clock: .realtime, sigevent: nil)
        try p.timerSettime(a, absolute: false, TimerValue(valueNanoseconds: 10, intervalNanoseconds: 0))
        try p.timerSettime(b, absolute: false, TimerValue(valueNanoseconds: 20, intervalNanoseconds: 0))
        try p.timerDelete(a)
        XCTAssertEqual(p.timers.armedCount, 1)
        p.advanceTime(byNanoseconds: 30)
        XCTAssertEqual(p.timers.armedCount, 0)
        XCTAssertEqual(p.expiriesDelivered, 1)
    }

    func testProfilesDescribeThemselves() {
        XCTAssertEqual(KernelProfile.allCases.map(\.rawValue),
                       ["linux-2.6", "linux-3.10", "linux-6.15", "rfd-cursor", "rfd-dense"])
        XCTAssertEqual(KernelProfile.allCases.filter(\.danceWorks), [.linux310, .linux615, .rfdCursor])
        XCTAssertEqual(ModelKernel(profile: .rfdCursor).spawnProcess().kernelName, "rfd-cursor (model)")
        XCTAssertEqual(KernelProfile.linux615.restoreInterfaces, .createAtID)
        XCTAssertEqual(KernelProfile.rfdCursor.restoreInterfaces, .cursor)
    }

    func testPidOneExistsAndPidsAreFresh() {
        let kernel = ModelKernel(profile: .linux615)
        let a = kernel.spawnProcess(extraThreads: 2)
        let b = kernel.spawnProcess()
        XCTAssertEqual(a.threadIDs.count, 3)
        XCTAssertEqual(a.threadIDs[0], a.processID)
        XCTAssertEqual(Set(a.threadIDs + b.threadIDs).count, 4)
        XCTAssertEqual(kernel.processIDs, [1, a.processID, b.processID])
    }
}

/// SIGEV_NONE timers never fire; measured on 6.18 (docs/model-kernel.md).
final class SigevNoneTimeTests: XCTestCase {
    func testDisarmedSigevNoneTimerKeepsCountingDownOnHrtimerClocks() throws {
        let kernel = ModelKernel(profile: .linux615)
        let p = kernel.spawnProcess()
        let none = Sigevent(.none, signal: 0)
        let mono = try p.timerCreate(clock: .monotonic, sigevent: none)
        let cpu = try p.timerCreate(clock: .processCPUTime, sigevent: none)
        let signalled = try p.timerCreate(clock: .monotonic, sigevent: nil)
        for id in [mono, cpu, signalled] {
            try p.timerSettime(id, absolute: false, TimerValue(valueNanoseconds: 3_600, intervalNanoseconds: 0))
            try p.timerSettime(id, absolute: false, TimerValue(valueNanoseconds: 0, intervalNanoseconds: 5))
        }
        kernel.advanceTime(byNanoseconds: 600)
        XCTAssertEqual(try p.timerGettime(mono), TimerValue(valueNanoseconds: 3_000, intervalNanoseconds: 0))
        XCTAssertEqual(try p.timerGettime(cpu), .disarmed)
        XCTAssertEqual(try p.timerGettime(signalled), .disarmed)
        kernel.advanceTime(byNanoseconds: 5_000)
        XCTAssertEqual(try p.timerGettime(mono), .disarmed)
        XCTAssertEqual(p.expiriesDelivered, 0)
    }

    func testSigevNoneIntervalTimerIsForwardedWhenRead() throws {
        let kernel = ModelKernel(profile: .linux615)
        let p = kernel.spawnProcess()
        let id = try p.timerCreate(clock: .monotonic, sigevent: Sigevent(.none, signal: 0))
        try p.timerSettime(id, absolute: false, TimerValue(valueNanoseconds: 100, intervalNanoseconds: 30))
        kernel.advanceTime(byNanoseconds: 175)
        XCTAssertEqual(try p.timerGettime(id), TimerValue(valueNanoseconds: 15, intervalNanoseconds: 30))
        XCTAssertEqual(try p.timerGetoverrun(id), 0)   // nothing was delivered
        XCTAssertEqual(p.expiriesDelivered, 0)
        XCTAssertEqual(p.timers.armedCount, 0)
    }
}

/// What the real Linux 6.1 showed (Scripts/kernel-oracle.sh): a disarmed CPU
/// timer keeps the interval passed with the zero value; hrtimer clocks and
/// the 6.15+ profiles drop it.
final class OldKernelDisarmTests: XCTestCase {
    func testCPUTimerKeepsTheIntervalWhenDisarmedBefore615() throws {
        for profile in KernelProfile.allCases {
            let kernel = ModelKernel(profile: profile)
            let p = kernel.spawnProcess()
            let cpu = try p.timerCreate(clock: .processCPUTime, sigevent: nil)
            let cpuNone = try p.timerCreate(clock: .processCPUTime, sigevent: Sigevent(.none, signal: 0))
            let mono = try p.timerCreate(clock: .monotonic, sigevent: nil)
            for id in [cpu, cpuNone, mono] {
                try p.timerSettime(id, absolute: false, TimerValue(valueNanoseconds: 3_600, intervalNanoseconds: 1_000))
                try p.timerSettime(id, absolute: false, TimerValue(valueNanoseconds: 0, intervalNanoseconds: 7))
            }
            let kept: Int64 = profile == .linux26 || profile == .linux310 ? 7 : 0
            XCTAssertEqual(try p.timerGettime(cpu), TimerValue(valueNanoseconds: 0, intervalNanoseconds: kept), profile.rawValue)
            XCTAssertEqual(try p.timerGettime(cpuNone), TimerValue(valueNanoseconds: 0, intervalNanoseconds: kept), profile.rawValue)
            XCTAssertEqual(try p.timerGettime(mono), .disarmed, profile.rawValue)
            // Still disarmed: nothing fires, and the next disarm returns the kept interval as the old setting.
            kernel.advanceTime(byNanoseconds: 10_000)
            XCTAssertEqual(p.expiriesDelivered, 0, profile.rawValue)
            let old = try p.timerSettime(cpu, absolute: false, .disarmed)
            XCTAssertEqual(old, TimerValue(valueNanoseconds: 0, intervalNanoseconds: kept), profile.rawValue)
            XCTAssertEqual(try p.timerGettime(cpu), .disarmed, profile.rawValue)
        }
    }
}

