import Foundation
import TestSupport
import TimerCore
import TimerFormats
import TimerComparison
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// timerfds and itimers restored by the host helper on the real kernel, each
/// of the three cases CRIU 3.17 loses (docs/kernel-facts.md 8) checked
/// through the helper's own fdinfo and getitimer, as its --json report gives
/// them.
final class TimerFDHostRestoreTests: XCTestCase {
    var files: [String] = []

    override func tearDown() {
        for file in files { try? FileManager.default.removeItem(atPath: file) }
        files = []
        super.tearDown()
    }

    func write(_ checkpoint: Checkpoint) throws -> String {
        let path = try TestCheckpoints.writeTemporary(checkpoint, prefix: "tc-tfd")
        files.append(path)
        return path
    }

    func restoreOnHost(_ checkpoint: Checkpoint) throws -> JSONValue {
        let path = try write(checkpoint)
        let result = try runTimerCRIU(["restore", path, "--kernel", "host", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr + result.stdoutText)
        return try JSONValue.parse(Array(result.stdout))
    }

    static func realtimeNow() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    func timerFD(_ json: JSONValue, fd: Int64) -> JSONValue? {
        guard case let .array(items) = json["timerfds"] else { return nil }
        return items.first { $0["fd"]?.integer == fd }
    }

    func testTheThreeThingsCRIULosesAreKept() throws {
        var checkpoint = Checkpoint(pid: 4242, kernel: "6.18", threads: [4242], timers: [])
        let dumpedAt = Self.realtimeNow() - 10_000_000_000      // dumped 10 s ago
        checkpoint.dumpClocks = DumpClocks(realtimeNanoseconds: dumpedAt, monotonicNanoseconds: 1, boottimeNanoseconds: 1)
        checkpoint.timerFDs = [
            // fd 3: the helper's own status pipe number, moved out of the way.
            CheckpointTimerFD(fd: 3, clockID: .monotonic, flags: 0, settimeFlags: 0, ticks: 0,
                              valueNanoseconds: 100_000_000_000, intervalNanoseconds: 5_000_000_000),
            // A 1 ms periodic timerfd fdinfo showed with value 0 and 1 tick.
            CheckpointTimerFD(fd: 7, clockID: .boottime, flags: 0, settimeFlags: 0, ticks: 1,
                              valueNanoseconds: 0, intervalNanoseconds: 1_000_000),
            // An absolute realtime deadline 100 s after the dump: 90 s from now.
            CheckpointTimerFD(fd: 9, clockID: .realtime, flags: 0x80800, settimeFlags: 1, ticks: 0,
                              valueNanoseconds: 100_000_000_000, intervalNanoseconds: 0),
            CheckpointTimerFD(fd: 12, clockID: .monotonic, flags: 0x80800, settimeFlags: 0, ticks: 0,
                              valueNanoseconds: 0, intervalNanoseconds: 0),
        ]
        // alarm(90): a one-shot ITIMER_REAL.
        checkpoint.itimers = CheckpointITimers(
            real: TimerValue(valueNanoseconds: 90_000_000_000, intervalNanoseconds: 0),
            virtual: TimerValue(valueNanoseconds: 20_004_000_000, intervalNanoseconds: 2_000_000_000),
            prof: .disarmed)
        let json = try restoreOnHost(checkpoint)
        XCTAssertEqual(json["ok"], .bool(true), "\(json)")

        // One-shot ITIMER_REAL re-armed (CRIU: getitimer reads 0).
        let real = try XCTUnwrap(json["itimers"]?["real"]?["value_ns"]?.integer)
        XCTAssertGreaterThan(real, 89_000_000_000)
        XCTAssertLessThanOrEqual(real, 90_000_000_000)
        XCTAssertEqual(json["itimers"]?["virtual"]?["interval_ns"]?.integer, 2_000_000_000)
        XCTAssertEqual(json["itimers"]?["prof"]?["value_ns"]?.integer, 0)

        // The periodic timerfd is armed, its tick restored by TFD_IOC_SET_TICKS.
        let periodic = try XCTUnwrap(timerFD(json, fd: 7))
        XCTAssertEqual(periodic["interval_ns"]?.integer, 1_000_000)
        XCTAssertGreaterThanOrEqual(periodic["ticks"]?.integer ?? 0, 1)
        XCTAssertEqual(json["timerfd_syscalls"]?["ioctl"]?.integer, 1)

        // The absolute realtime timerfd keeps its deadline: about 90 s left, not 100.
        let absolute = try XCTUnwrap(timerFD(json, fd: 9))
        let left = try XCTUnwrap(absolute["value_ns"]?.integer)
        XCTAssertGreaterThan(left, 85_000_000_000)
        XCTAssertLessThan(left, 90_100_000_000)
        XCTAssertEqual(absolute["settime_flags"]?.integer, 1)
        XCTAssertEqual(absolute["flags"], .string("0x80800"), "O_CLOEXEC kept by dup3")

        XCTAssertEqual(timerFD(json, fd: 3)?["interval_ns"]?.integer, 5_000_000_000)
        XCTAssertEqual(timerFD(json, fd: 12)?["value_ns"]?.integer, 0)
        XCTAssertEqual(json["timerfd_syscalls"]?["timerfd_create"]?.integer, 4)
        XCTAssertEqual(json["timerfd_syscalls"]?["setitimer"]?.integer, 2)
    }

    /// fd 1 is the helper's stdout: refused before anything is created.
    func testAnFDTheHelperHoldsIsRefused() throws {
        var checkpoint = Checkpoint(pid: 4242, kernel: "6.18", threads: [4242], timers: [])
        checkpoint.timerFDs = [CheckpointTimerFD(fd: 1, clockID: .monotonic, flags: 0, settimeFlags: 0, ticks: 0,
                                                 valueNanoseconds: 0, intervalNanoseconds: 0)]
        let path = try write(checkpoint)
        let result = try runTimerCRIU(["restore", path, "--kernel", "host"])
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertTrue(result.stdoutText.contains("timerfd 1: fd 1 is already open in process"), result.stdoutText)
    }

    /// fd 5000 above the helper's soft RLIMIT_NOFILE (1024 here): the helper
    /// raises its soft limit and says so; above the hard limit, refused.
    func testAnFDAboveTheSoftLimitRaisesItAndAboveTheHardLimitIsRefused() throws {
        var checkpoint = Checkpoint(pid: 4242, kernel: "6.18", threads: [4242], timers: [])
        checkpoint.timerFDs = [CheckpointTimerFD(fd: 5000, clockID: .monotonic, flags: 0, settimeFlags: 0, ticks: 0,
                                                 valueNanoseconds: 30_000_000_000, intervalNanoseconds: 0)]
        let path = try write(checkpoint)
        let tool = try BuiltProducts.path("timer-criu")
        let raised = try runCommand("/bin/sh", ["-c", "ulimit -Sn 1024 && exec \"$0\" restore \"$1\" --kernel host --json", tool, path])
        XCTAssertEqual(raised.status, 0, raised.stderr + raised.stdoutText)
        let json = try JSONValue.parse(Array(raised.stdout))
        XCTAssertEqual(timerFD(json, fd: 5000)?["value_ns"]?.integer.map { $0 > 29_000_000_000 }, true, "\(json)")
        guard case let .array(notes) = json["notes"] else { return XCTFail("no notes in \(json)") }
        XCTAssertTrue(notes.contains { if case let .string(note) = $0 { return note.contains("raised from 1024 to 5001") }; return false },
                      "\(notes)")

        let refused = try runCommand("/bin/sh", ["-c", "ulimit -n 2048 && exec \"$0\" restore \"$1\" --kernel host", tool, path])
        XCTAssertEqual(refused.status, 2, refused.stderr)
        XCTAssertTrue(refused.stdoutText.contains("timerfd 5000: fd 5000 is not below the RLIMIT_NOFILE hard limit 2048"),
                      refused.stdoutText)
    }
}
