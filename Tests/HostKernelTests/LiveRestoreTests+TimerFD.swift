// restore --into with timerfds and itimers: put into a running process by
// its own syscalls, checked through its own fdinfo and getitimer injected
// into it, the three cases CRIU 3.17 loses (docs/kernel-facts.md 8) included.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HostKernel
import TestSupport
import TimerCore
import TimerFormats
import XCTest

extension LiveRestoreTests {
    /// The target's own fdinfo of `fd`.
    func fdinfo(_ pid: Int32, _ fd: Int32) throws -> CheckpointTimerFD {
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: "/proc/\(pid)/fdinfo/\(fd)"), "fd \(fd) not open in \(pid)")
        return CheckpointTimerFD(fd: fd, info: try TimerFDInfoParser.parse(Array(bytes)))
    }

    /// The highest fd number open in `pid` (from /proc/PID/fd).
    func highestOpenFD(_ pid: Int32) throws -> Int32 {
        let names = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")
        return try XCTUnwrap(names.compactMap { Int32($0) }.max(), "no fd open in \(pid)")
    }

    /// getitimer(ITIMER_REAL, VIRTUAL, PROF) made by the target itself.
    func itimers(of pid: Int32) throws -> [TimerValue] {
        var batch = SyscallBatch()
        let slots = (0..<3).map { _ in batch.block(bytes: 32) }
        let calls = (0..<3).map { batch.add(36, [.value(UInt64($0)), .block(slots[$0])]) }
        try InjectionSession.runOnce(pid: pid, &batch)
        return (0..<3).map { which in
            XCTAssertEqual(batch.result(calls[which]), 0)
            let words = (0..<4).map { batch.load(Int64.self, at: slots[which] + 8 * $0) }
            return TimerValue(valueNanoseconds: words[2] * 1_000_000_000 + words[3] * 1000,
                              intervalNanoseconds: words[0] * 1_000_000_000 + words[1] * 1000)
        }
    }

    static func now(_ clock: clockid_t) -> Int64 {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    func dump(_ pid: Int32, values: Bool = true) throws -> (path: String, checkpoint: Checkpoint) {
        let path = work.appendingPathComponent("c-\(pid).json").path
        let result = try runTimerCRIU(["dump", "\(pid)"] + (values ? ["--values"] : []) + ["-o", path])
        XCTAssertEqual(result.status, 0, result.stderr)
        return (path, try CheckpointSource.load(path: path))
    }

    func testTheThreeThingsCRIULosesAreKept() throws {
        try requireInjection()
        // alarm(90); a 1 ms periodic timerfd nobody reads; an absolute
        // realtime timerfd 100 s ahead (O_NONBLOCK|O_CLOEXEC kept by dup3).
        let source = try FixtureProcess(["--timerfd", "fd=7,clock=monotonic,arm=1ms,interval=1ms",
                                         "--timerfd", "fd=9,clock=realtime,arm=100s,abs=1,flags=nonblock+cloexec",
                                         "--itimer", "which=real,arm=90s"])
        defer { source.stop() }
        // Let the periodic one miss about 300 expirations, as in the CRIU run.
        let start = Self.now(CLOCK_MONOTONIC)
        while Self.now(CLOCK_MONOTONIC) - start < 300_000_000 { usleep(20_000) }
        XCTAssertEqual(try fdinfo(source.pid, 7).ticks, 1, "fdinfo counts one tick until the fd is read or forwarded")
        let (path, checkpoint) = try dump(source.pid)
        let periodic = try XCTUnwrap(checkpoint.timerFDs?.first { $0.fd == 7 })
        XCTAssertGreaterThan(periodic.ticks, 250, "--values forwards the timer by timerfd_gettime in the process")
        let absolute = try XCTUnwrap(checkpoint.timerFDs?.first { $0.fd == 9 })
        let deadline = try XCTUnwrap(checkpoint.dumpClocks).realtimeNanoseconds + absolute.valueNanoseconds

        let target = try FixtureProcess(["id=5"])
        defer { target.stop() }
        let restore = try runTimerCRIU(["restore", path, "--into", "\(target.pid)", "--json"])
        XCTAssertEqual(restore.status, 0, restore.stderr + restore.stdoutText)
        let json = try JSONValue.parse(Array(restore.stdout))
        XCTAssertEqual(json["ok"], .bool(true), "\(json)")
        guard case let .array(listed) = json["timerfds"] else { return XCTFail("no timerfds in \(json)") }
        XCTAssertEqual(listed.compactMap { $0["fd"]?.integer }, [7, 9])
        XCTAssertEqual(json["timerfd_syscalls"]?["timerfd_create"]?.integer, 2)
        XCTAssertEqual(json["timerfd_syscalls"]?["ioctl"]?.integer, 1)

        // The target's own fdinfo: periodic, armed, ticks at least the dumped count.
        let back = try fdinfo(target.pid, 7)
        XCTAssertEqual(back.intervalNanoseconds, 1_000_000)
        XCTAssertGreaterThanOrEqual(back.ticks, periodic.ticks)
        XCTAssertEqual(back.clockID, .monotonic)
        // The absolute one: the same deadline on the realtime clock.
        let backAbsolute = try fdinfo(target.pid, 9)
        XCTAssertEqual(backAbsolute.settimeFlags, 1)
        XCTAssertEqual(backAbsolute.flags, 0x80800)
        let left = backAbsolute.valueNanoseconds
        let expectedLeft = deadline - Self.now(CLOCK_REALTIME)
        XCTAssertLessThan(abs(left - expectedLeft), 50_000_000, "deadline moved by \(left - expectedLeft) ns")
        // The one-shot ITIMER_REAL is armed (CRIU: getitimer reads 0).
        let real = try itimers(of: target.pid)[0]
        XCTAssertGreaterThan(real.valueNanoseconds, 80_000_000_000)
        XCTAssertLessThanOrEqual(real.valueNanoseconds, 90_000_000_000)
        XCTAssertEqual(real.intervalNanoseconds, 0)
        XCTAssertEqual(ProcFS.liveThreads(pid: target.pid), [target.pid], "the target runs on")
    }

    func testATakenFDIsRefusedAndTheTargetIsLeftAsItWas() throws {
        try requireInjection()
        let source = try FixtureProcess(["id=300,arm=30s", "--timerfd", "fd=7,clock=boottime,arm=40s",
                                         "--itimer", "which=real,arm=50s"])
        defer { source.stop() }
        let (path, _) = try dump(source.pid)
        // The target's own fd 7 is a realtime timerfd, its ITIMER_REAL at 60 s.
        let target = try FixtureProcess(["id=5", "--timerfd", "fd=7,clock=realtime,arm=20s", "--itimer", "which=real,arm=60s"])
        defer { target.stop() }
        let timersBefore = try ProcFS.readTimers(pid: target.pid)
        let fdsBefore = ProcFS.openFDs(pid: target.pid)
        let restore = try runTimerCRIU(["restore", path, "--into", "\(target.pid)"])
        XCTAssertNotEqual(restore.status, 0)
        XCTAssertEqual(restore.stderr.split(separator: "\n").count, 1, restore.stderr)
        XCTAssertTrue(restore.stderr.contains("timerfd 7: fd 7 is already open in process \(target.pid): refused, nothing changed"),
                      restore.stderr)
        XCTAssertEqual(try ProcFS.readTimers(pid: target.pid), timersBefore, "no POSIX timer created")
        XCTAssertEqual(ProcFS.openFDs(pid: target.pid), fdsBefore)
        XCTAssertEqual(try fdinfo(target.pid, 7).clockID, .realtime, "its own fd 7 untouched")
        let real = try itimers(of: target.pid)[0]
        XCTAssertGreaterThan(real.valueNanoseconds, 55_000_000_000, "its own ITIMER_REAL untouched")
    }

    /// A restore that has placed everything and then is cancelled (as by ^C)
    /// takes it all out again: fds closed, itimers as they were.
    func testARolledBackRestoreClosesItsTimerFDsAndPutsTheITimersBack() throws {
        try requireInjection()
        let source = try FixtureProcess(["id=400,arm=30s", "--timerfd", "fd=20,clock=monotonic,arm=40s,interval=1s",
                                         "--timerfd", "fd=3,clock=boottime", "--itimer", "which=real,arm=50s"])
        defer { source.stop() }
        let (_, checkpoint) = try dump(source.pid)
        let target = try FixtureProcess(["id=5", "--itimer", "which=real,arm=70s"])
        defer { target.stop() }
        let fdsBefore = ProcFS.openFDs(pid: target.pid)
        var sawThemPlaced = false
        let targetPID = target.pid
        let control = RestoreControl(isCancelled: {
            // Cancelled only once the timerfds are in place.
            let placed = ProcFS.openFDs(pid: targetPID)?.isSuperset(of: [3, 20]) == true
            if placed { sawThemPlaced = true }
            return placed
        })
        let report = try LiveRestore.run(LiveRestore.Request(checkpoint: checkpoint, pid: target.pid, control: control))
        XCTAssertTrue(sawThemPlaced)
        XCTAssertEqual(report.error?.code, .interrupted)
        XCTAssertTrue(report.notes.contains { $0.hasPrefix("rolled back: closed the 2 timerfd(s)") }, "\(report.notes)")
        XCTAssertEqual(ProcFS.openFDs(pid: target.pid), fdsBefore)
        let real = try itimers(of: target.pid)[0]
        XCTAssertGreaterThan(real.valueNanoseconds, 60_000_000_000, "ITIMER_REAL back at the target's own ~70 s, not 50 s")
        XCTAssertEqual(try ProcTimersParser.parse(try ProcFS.readTimers(pid: target.pid)).map(\.id), [5])
    }

    /// The timerfd calls of a restore are batched: one stop to find the free
    /// fds, one for every create, move, arm, tick and setitimer, however many
    /// timerfds; one for reading the itimers back.
    func testTheTimerFDCallsAreBatched() throws {
        try requireInjection()
        for count in [1, 6] {
            let target = try FixtureProcess(["id=5"])
            defer { target.stop() }
            // Numbers above every fd the target holds: it inherits the test
            // runner's descriptors, and how many those are depends on the run.
            let base = try highestOpenFD(target.pid) + 10
            var checkpoint = Checkpoint(pid: 4242, kernel: "6.18", threads: [4242], timers: [])
            checkpoint.timerFDs = (0..<Int32(count)).map {
                CheckpointTimerFD(fd: base + 2 * $0, clockID: .monotonic, flags: 0, settimeFlags: 0, ticks: 2,
                                  valueNanoseconds: 40_000_000_000, intervalNanoseconds: 1_000_000_000)
            }
            checkpoint.itimers = CheckpointITimers(real: TimerValue(valueNanoseconds: 50_000_000_000, intervalNanoseconds: 0),
                                                   virtual: .disarmed, prof: .disarmed)
            let kernel = try LiveProcessKernel(pid: target.pid, mappedThreads: [])
            let before = kernel.batchesRun
            var report = RestoreReport(kernel: kernel.kernelName, strategy: .createAtID, requestedStrategy: .auto,
                                       processID: target.pid, threadIDs: [target.pid])
            try TimerFDRestore.restore(checkpoint, on: kernel, report: &report)
            XCTAssertEqual(kernel.batchesRun - before, 2, "\(count) timerfd(s)")
            XCTAssertEqual(TimerFDRestore.verify(checkpoint, on: kernel, report: &report), [])
            XCTAssertEqual(kernel.batchesRun - before, 3)
            try kernel.close()
            for fd in checkpoint.timerFDs!.map(\.fd) {
                XCTAssertEqual(try fdinfo(target.pid, fd).ticks, 2)
            }
        }
    }

    /// fd 5000 above the target's soft RLIMIT_NOFILE: raised by prlimit64 from
    /// outside, said in the report; above its hard limit: refused, nothing changed.
    func testAnFDAboveTheTargetsSoftLimitRaisesItAndAboveTheHardLimitIsRefused() throws {
        try requireInjection()
        var checkpoint = Checkpoint(pid: 4242, kernel: "6.18", threads: [4242], timers: [])
        checkpoint.timerFDs = [CheckpointTimerFD(fd: 5000, clockID: .boottime, flags: 0, settimeFlags: 0, ticks: 0,
                                                 valueNanoseconds: 30_000_000_000, intervalNanoseconds: 0)]
        let path = work.appendingPathComponent("fd5000.json").path
        try Data(checkpoint.jsonBytes()).write(to: URL(fileURLWithPath: path))
        let target = try FixtureProcess(["id=5"])
        defer { target.stop() }
        let hard = try HostKernel.fdLimit(of: target.pid).hard
        try HostKernel.setFDLimit(FDLimit(soft: 1024, hard: hard), of: target.pid)
        let restore = try runTimerCRIU(["restore", path, "--into", "\(target.pid)"])
        XCTAssertEqual(restore.status, 0, restore.stderr + restore.stdoutText)
        XCTAssertTrue(restore.stdoutText.contains("note: RLIMIT_NOFILE of process \(target.pid) raised from 1024 to 5001 (hard limit \(hard))"),
                      restore.stdoutText)
        XCTAssertEqual(try fdinfo(target.pid, 5000).clockID, .boottime)
        XCTAssertEqual(try HostKernel.fdLimit(of: target.pid), FDLimit(soft: 5001, hard: hard))

        let other = try FixtureProcess(["id=5"])
        defer { other.stop() }
        try HostKernel.setFDLimit(FDLimit(soft: 1024, hard: 2048), of: other.pid)
        let fdsBefore = ProcFS.openFDs(pid: other.pid)
        let refused = try runTimerCRIU(["restore", path, "--into", "\(other.pid)"])
        XCTAssertEqual(refused.status, 1, refused.stderr)
        XCTAssertEqual(refused.stderr, "timer-criu: timerfd 5000: fd 5000 is not below the RLIMIT_NOFILE hard limit 2048 of process "
            + "\(other.pid) (only CAP_SYS_RESOURCE raises it, e.g. prlimit --pid \(other.pid) --nofile=5001): refused, nothing changed\n")
        XCTAssertEqual(try HostKernel.fdLimit(of: other.pid), FDLimit(soft: 1024, hard: 2048))
        XCTAssertEqual(ProcFS.openFDs(pid: other.pid), fdsBefore)
    }
}
