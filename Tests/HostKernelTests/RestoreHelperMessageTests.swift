@testable import HostKernel
import TimerCore
import TimerFormats
import XCTest

/// The host restore's messages carry every field both ways, and a
/// truncated or corrupt frame is refused, not misread.
final class RestoreHelperMessageTests: XCTestCase {
    static var checkpoint: Checkpoint {
        var c = Checkpoint(pid: 77, kernel: "6.18.0", threads: [77, 78], timers: [
            CheckpointTimer(id: 3, clockID: .cpuClock(pid: 90, perThread: false, type: .sched), signal: 10,
                            sigevValue: 0xdead_beef_cafe_babe, sigevValueReliable: false, notify: .threadID,
                            notifyTarget: 78, valueNanoseconds: 5, intervalNanoseconds: 7, overrun: 2),
            CheckpointTimer(id: 2_147_483_647, clockID: .boottime, signal: -1, sigevValue: 0, notify: .none,
                            notifyTarget: 77),
        ], warnings: ["w1", "ünïcode"], format: "timer-criu/2")
        c.timers[1].notifyTargetExited = true
        c.timerFDs = [CheckpointTimerFD(fd: 9, clockID: .realtime, flags: 0x80800, settimeFlags: 3, ticks: 1 << 40,
                                        valueNanoseconds: -1, intervalNanoseconds: Int64.max)]
        c.itimers = CheckpointITimers(virtual: TimerValue(valueNanoseconds: 1, intervalNanoseconds: 2))
        c.dumpClocks = DumpClocks(realtimeNanoseconds: 1, monotonicNanoseconds: 2, boottimeNanoseconds: 3)
        return c
    }

    func roundTrip(_ message: RestoreHelperMessage) throws -> RestoreHelperMessage {
        let frame = message.frame()
        let (kind, length) = try RestoreHelperMessage.header(Array(frame.prefix(5)))
        XCTAssertEqual(length, frame.count - 5)
        return try RestoreHelperMessage.decode(kind: kind, payload: Array(frame.dropFirst(5)))
    }

    func testRequestRoundTrip() throws {
        let request = RestoreHelperRequest(checkpoint: Self.checkpoint, strategy: .cursor, deadThreadNotify: .fail,
                                           otherPIDs: [90: 4001, 91: 4002])
        guard case let .restore(back) = try roundTrip(.restore(request)) else { return XCTFail("not a restore") }
        XCTAssertEqual(back, request)
    }

    func testReportRoundTrip() throws {
        var report = RestoreReport(kernel: "host 6.18", strategy: .dance, requestedStrategy: .auto, processID: 4001,
                                   threadIDs: [4001, 4002])
        report.syscalls.timerCreate = 9; report.syscalls.timerGettime = 4; report.syscalls.sysctlWrite = 1
        report.timers = Self.checkpoint.timers
        report.error = RestoreFailure(.syscallFailed, "timer_create(id=3): EBUSY: taken",
                                      syscallError: SyscallError("timer_create", timerID: 3, errno: .EBUSY))
        report.differences = ["d"]; report.warnings = ["w"]; report.notes = ["n"]
        report.wallNanoseconds = 123
        report.timerFDs = Self.checkpoint.timerFDs
        report.itimers = Self.checkpoint.itimers
        var counts = TimerFDSyscallCounts()
        counts.timerfdCreate = 1; counts.dup2 = 2; counts.close = 3; counts.timerfdSettime = 4; counts.ioctl = 5
        counts.setitimer = 6
        report.timerFDSyscalls = counts
        report.ticksNotRestored = [9, 4]
        report.valuesNotDumped = [3]
        guard case let .report(back) = try roundTrip(.report(report)) else { return XCTFail("not a report") }
        XCTAssertEqual(back.jsonBytes(), report.jsonBytes())
        XCTAssertEqual(back.humanText, report.humanText)
        XCTAssertEqual(back.error, report.error)
        XCTAssertEqual(back.syscalls, report.syscalls)
        XCTAssertEqual(back.ticksNotRestored, [4, 9])
        XCTAssertEqual(back.valuesNotDumped, [3])
    }

    func testTruncatedAndCorruptFramesAreRefused() throws {
        let payload = Array(RestoreHelperMessage.restore(RestoreHelperRequest(
            checkpoint: Self.checkpoint, strategy: .auto, deadThreadNotify: .none, otherPIDs: [:])).frame().dropFirst(5))
        for cut in [0, 1, payload.count / 2, payload.count - 1] {
            XCTAssertThrowsError(try RestoreHelperMessage.decode(kind: 1, payload: Array(payload.prefix(cut))), "cut \(cut)")
        }
        XCTAssertThrowsError(try RestoreHelperMessage.decode(kind: 1, payload: payload + [0]), "a byte after the message")
        XCTAssertThrowsError(try RestoreHelperMessage.decode(kind: 9, payload: []), "unknown kind")
        XCTAssertThrowsError(try RestoreHelperMessage.header([1, 0xff, 0xff, 0xff, 0xff]), "4 GiB frame")
    }
}
