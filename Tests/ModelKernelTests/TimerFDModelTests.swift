import TestSupport
import XCTest
import ModelKernel
import HostKernel
@testable import TimerCore
@testable import TimerFormats
@testable import TimerComparison

/// timerfds and itimers on the model: the fd table (lowest free, dup2 as
/// create-at-ID), the kernel's lazy ticks, and a timer-criu/2 checkpoint
/// restored completely on every profile with exact syscall counts.
final class TimerFDModelTests: XCTestCase {
    /// The three kinds as a dump of a real process could hold them.
    static func checkpoint() -> Checkpoint {
        var checkpoint = Checkpoint(pid: 500, kernel: "6.18", threads: [500], timers: [
            CheckpointTimer(id: 0, clockID: .monotonic, signal: 14, sigevValue: 0, notify: .signal, notifyTarget: 500,
                            valueNanoseconds: 1_000_000_000, intervalNanoseconds: 0, overrun: 0),
        ])
        checkpoint.timerFDs = [
            CheckpointTimerFD(fd: 3, clockID: .monotonic, flags: 0, settimeFlags: 0, ticks: 0,
                              valueNanoseconds: 5_000_000_000, intervalNanoseconds: 2_000_000_000),
            // Periodic, expired, not forwarded: fdinfo showed value 0.
            CheckpointTimerFD(fd: 7, clockID: .realtime, flags: 0, settimeFlags: 0, ticks: 3,
                              valueNanoseconds: 0, intervalNanoseconds: 1_000_000),
            // Absolute realtime: the deadline is clocks_at_dump + 60 s.
            CheckpointTimerFD(fd: 9, clockID: .realtime, flags: 0x80800, settimeFlags: 1, ticks: 0,
                              valueNanoseconds: 60_000_000_000, intervalNanoseconds: 0),
            CheckpointTimerFD(fd: 30, clockID: .monotonic, flags: 0x80800, settimeFlags: 0, ticks: 0,
                              valueNanoseconds: 0, intervalNanoseconds: 0),
        ]
        checkpoint.itimers = CheckpointITimers(
            real: TimerValue(valueNanoseconds: 90_000_000_000, intervalNanoseconds: 0),   // alarm(90)
            virtual: TimerValue(valueNanoseconds: 20_004_000_000, intervalNanoseconds: 2_000_000_000))
        checkpoint.dumpClocks = DumpClocks(realtimeNanoseconds: 1_800_000_000_000_000_000, monotonicNanoseconds: 1,
                                           boottimeNanoseconds: 1)
        return checkpoint
    }

    func testTheFDTableIsTheLowestFreeAllocatorWithDup2AsCreateAtID() throws {
        let process = ModelKernel(profile: .linux615).spawnProcess()
        XCTAssertEqual(try process.timerfdCreate(clock: .monotonic, flags: 0), 3)
        XCTAssertEqual(try process.timerfdCreate(clock: .monotonic, flags: 0), 4)
        try process.close(3)
        XCTAssertEqual(try process.timerfdCreate(clock: .monotonic, flags: 0), 3, "a hole is reused at once")
        try process.dup3(3, to: 100, closeOnExec: true)
        XCTAssertTrue(process.isOpen(100))
        XCTAssertEqual(try process.timerfdCreate(clock: .monotonic, flags: 0), 5)
        XCTAssertThrowsError(try process.dup3(50, to: 60, closeOnExec: false)) { XCTAssertEqual($0 as? KernelErrno, .EBADF) }
        XCTAssertThrowsError(try process.dup3(3, to: 3, closeOnExec: true)) { XCTAssertEqual($0 as? KernelErrno, .EINVAL) }
        XCTAssertThrowsError(try process.timerfdCreate(clock: .tai, flags: 0)) { XCTAssertEqual($0 as? KernelErrno, .EINVAL) }
        XCTAssertThrowsError(try process.timerfdCreate(clock: .realtimeAlarm, flags: 0)) {
            XCTAssertEqual($0 as? KernelErrno, .EPERM)
        }
        XCTAssertThrowsError(try process.timerfdCreate(clock: .monotonic, flags: 1)) { XCTAssertEqual($0 as? KernelErrno, .EINVAL) }
    }

    /// F_GETFD answers the fd's own FD_CLOEXEC, as fs/file.c keeps it per
    /// fd: TFD_CLOEXEC sets it, dup2 clears it on the new fd, dup3 with
    /// O_CLOEXEC sets it, and the fd it was dup'ed from keeps its own.
    func testFDFlagsAreTheRealFDCloexecPerFD() throws {
        let process = ModelKernel(profile: .linux615).spawnProcess()
        let cloexec = try process.timerfdCreate(clock: .monotonic, flags: CheckpointTimerFD.O_CLOEXEC)
        let plain = try process.timerfdCreate(clock: .monotonic, flags: 0)
        try process.dup3(cloexec, to: 40, closeOnExec: false)          // dup2
        try process.dup3(plain, to: 41, closeOnExec: true)             // dup3(O_CLOEXEC)
        try process.dup3(cloexec, to: 41, closeOnExec: false)          // dup2 onto an open fd: replaced, cleared
        try process.dup3(plain, to: 42, closeOnExec: true)
        let numbers: [Int32] = [cloexec, plain, 40, 41, 42, 43]
        let results = process.performTimerFD(numbers.map { TimerFDStep(.getFDFlags($0), stopsOnError: false) })
        XCTAssertEqual(results, [.value(1), .value(0), .value(0), .value(0), .value(1), .failed(.EBADF)])
        XCTAssertEqual(try process.fdFlags(cloexec), 1)
        XCTAssertThrowsError(try process.fdFlags(43)) { XCTAssertEqual($0 as? KernelErrno, .EBADF) }
        // What fdinfo shows agrees: flags 02000002 for the O_CLOEXEC one.
        XCTAssertEqual(try TimerFDInfoParser.parse(try process.readFDInfo(42)).fileFlags & CheckpointTimerFD.O_CLOEXEC,
                       CheckpointTimerFD.O_CLOEXEC)
    }

    func testTicksAreCountedLazilyAsOnTheKernel() throws {
        let kernel = ModelKernel(profile: .linux615)
        let process = kernel.spawnProcess()
        let fd = try process.timerfdCreate(clock: .monotonic, flags: 0)
        try process.timerfdSettime(fd, flags: 0, TimerValue(valueNanoseconds: 1_000_000, intervalNanoseconds: 1_000_000))
        process.advanceTime(byNanoseconds: 300_000_000)
        // fdinfo does not forward: one tick, value 0 (docs/kernel-facts.md 8).
        var info = try TimerFDInfoParser.parse(try process.readFDInfo(fd))
        XCTAssertEqual(info.ticks, 1)
        XCTAssertEqual(info.valueNanoseconds, 0)
        // timerfd_gettime forwards: 300 expirations.
        let value = try process.timerfdGettime(fd)
        XCTAssertEqual(value.intervalNanoseconds, 1_000_000)
        XCTAssertGreaterThan(value.valueNanoseconds, 0)
        info = try TimerFDInfoParser.parse(try process.readFDInfo(fd))
        XCTAssertEqual(info.ticks, 300)
    }

    func testCPUItimersGetOneTickAndAlarmIsOneShot() throws {
        let process = ModelKernel(profile: .linux615).spawnProcess()
        try process.setitimer(.virtual, TimerValue(valueNanoseconds: 10_000_000_000, intervalNanoseconds: 0))
        XCTAssertEqual(try process.getitimer(.virtual).valueNanoseconds, 10_004_000_000)
        try process.setitimer(.real, TimerValue(valueNanoseconds: 1_000_000_000, intervalNanoseconds: 0))
        process.advanceTime(byNanoseconds: 2_000_000_000)
        XCTAssertEqual(try process.getitimer(.real), .disarmed)
    }

    func testACheckpointOfAllThreeKindsRestoresOnEveryProfile() throws {
        for profile in KernelProfile.allCases {
            let kernel = ModelKernel(profile: profile)
            kernel.setRealtime(1_800_000_000_000_000_000 + 10_000_000_000)   // 10 s after the dump
            let report = Restorer.restore(Self.checkpoint(), into: kernel.spawnProcess())
            let name = profile.rawValue
            XCTAssertNil(report.error, "\(name): \(report.error?.message ?? "")")
            // Created at the lowest free fds 3 (in place), 4, 5, 6; three moved.
            XCTAssertEqual(report.timerFDSyscalls?.timerfdCreate, 4, name)
            XCTAssertEqual(report.timerFDSyscalls?.dup2, 3, name)
            XCTAssertEqual(report.timerFDSyscalls?.close, 3, name)
            XCTAssertEqual(report.timerFDSyscalls?.timerfdSettime, 3, name)
            XCTAssertEqual(report.timerFDSyscalls?.setitimer, 2, name)
            let fds = report.timerFDs ?? []
            XCTAssertEqual(fds.map(\.fd), [3, 7, 9, 30], name)
            guard fds.count == 4 else { continue }
            // The periodic timer dumped with value 0 is armed, not disarmed.
            XCTAssertGreaterThan(fds[1].valueNanoseconds, 0, name)
            // The absolute realtime deadline is kept: 60 s after the dump is 50 s from now.
            XCTAssertEqual(fds[2].valueNanoseconds, 50_000_000_000, name)
            XCTAssertEqual(fds[2].settimeFlags, 1, name)
            XCTAssertEqual(fds[2].flags, 0x80800, name)
            XCTAssertEqual(fds[3].valueNanoseconds, 0, name)
            // The one-shot ITIMER_REAL (alarm) is re-armed.
            XCTAssertEqual(report.itimers?.real.valueNanoseconds, 90_000_000_000, name)
            XCTAssertEqual(report.itimers?.virtual.intervalNanoseconds, 2_000_000_000, name)
            if profile == .linux26 {
                // No TFD_IOC_SET_TICKS before 3.17: said, not failed.
                XCTAssertEqual(report.timerFDSyscalls?.ioctl, 1, name)
                XCTAssertEqual(fds[1].ticks, 0, name)
                XCTAssertTrue(report.notes.contains { $0.contains("ticks of timerfd(s) at fd 7 not restored") }, "\(report.notes)")
            } else {
                XCTAssertEqual(fds[1].ticks, 3, name)
                XCTAssertFalse(report.notes.contains { $0.contains("ticks") }, name)
            }
            XCTAssertTrue(report.humanText.contains("syscalls: timerfd_create 4, dup2 3, close 3, timerfd_settime 3, ioctl 1, setitimer 2"),
                          report.humanText)
        }
    }

    func testAnFDTakenInTheTargetIsRefused() throws {
        var checkpoint = Self.checkpoint()
        checkpoint.timerFDs = [CheckpointTimerFD(fd: 1, clockID: .monotonic, flags: 0, settimeFlags: 0, ticks: 0,
                                                 valueNanoseconds: 0, intervalNanoseconds: 0)]
        let report = Restorer.restore(checkpoint, into: ModelKernel(profile: .linux615).spawnProcess())
        XCTAssertEqual(report.error?.code, .planRefused)
        XCTAssertEqual(report.error?.message, "timerfd 1: fd 1 is already open in process 1000: refusing to replace it")
        XCTAssertEqual(report.timerFDSyscalls?.timerfdCreate, 0)
    }

    func testTheJSONReportHasTheCheckpointsShapes() throws {
        let report = Restorer.restore(Self.checkpoint(), into: ModelKernel(profile: .linux615).spawnProcess())
        let json = try JSONValue.parse(report.jsonBytes())
        guard case let .array(fds) = json["timerfds"] else { return XCTFail("no timerfds") }
        XCTAssertEqual(fds.count, 4)
        XCTAssertEqual(fds[0]["fd"]?.integer, 3)
        XCTAssertEqual(fds[2]["flags"], .string("0x80800"))
        XCTAssertEqual(json["itimers"]?["real"]?["interval_ns"]?.integer, 0)
        XCTAssertEqual(json["timerfd_syscalls"]?["dup2"]?.integer, 3)
    }

    /// The real CRIU 3.17.1 checkpoint of Tests/Fixtures/criu/timers-case8
    /// restored completely: fds 5, 9, 30 by create + dup2, both itimers armed,
    /// the absolute boottime timerfd re-based (said in a note).
    func testTheCRIUFixtureRestoresCompletely() throws {
        let checkpoint = try CheckpointSource.load(path: BuiltProducts.repositoryRoot + "/Tests/Fixtures/criu/timers-case8")
        let report = Restorer.restore(checkpoint, into: ModelKernel(profile: .linux615).spawnProcess())
        XCTAssertNil(report.error, report.error?.message ?? "")
        XCTAssertEqual(report.timerFDs?.map(\.fd), [5, 9, 30])
        XCTAssertEqual(report.timerFDSyscalls?.dup2, 3)
        XCTAssertEqual(report.itimers?.real.intervalNanoseconds, 30_000_000_000)
        XCTAssertEqual(report.itimers?.virtual.valueNanoseconds, 20_008_000_000, "one more 4 ms tick on setitimer")
        XCTAssertTrue(report.notes.contains { $0.contains("at fd 9 re-based") }, "\(report.notes)")
    }
}
