import Foundation
import TestSupport
import TimerCore
import TimerFormats
import TimerComparison
import XCTest

/// `timer-criu restore` on model kernels, as a user runs it: the report's
/// fields, the human text, the exit codes of docs/restore.md, and the plan's
/// refusals (dead notify thread with `fail`, a CPU clock of another pid).
final class RestoreCommandTests: XCTestCase {
    var files: [String] = []

    override func tearDown() {
        for file in files { try? FileManager.default.removeItem(atPath: file) }
        files = []
        super.tearDown()
    }

    func write(_ checkpoint: Checkpoint) throws -> String {
        let path = try TestCheckpoints.writeTemporary(checkpoint, prefix: "tc-rc")
        files.append(path)
        return path
    }

    static func timer(_ id: Int32, clock: ClockID = .monotonic, notify: NotifyMode = .signal, target: Int32 = 500,
                      exited: Bool = false, value: Int64? = nil, interval: Int64? = nil, overrun: Int32? = nil)
        -> CheckpointTimer
    {
        var timer = CheckpointTimer(id: id, clockID: clock, signal: 14, sigevValue: 0x2a, notify: notify,
                                    notifyTarget: target, valueNanoseconds: value, intervalNanoseconds: interval,
                                    overrun: overrun)
        timer.notifyTargetExited = exited
        return timer
    }

    var sample: Checkpoint {
        Checkpoint(pid: 500, kernel: "x", threads: [500, 501], timers: [
            Self.timer(0, value: 0, interval: 0, overrun: 0),
            Self.timer(7, notify: .threadID, target: 501, value: 2_000_000_000, interval: 1_000_000_000, overrun: 3),
            Self.timer(123_456, clock: .boottime, notify: .none, value: 5_000_000_000, interval: 0, overrun: 0),
        ])
    }

    static let fields = ["ok", "kernel", "strategy", "requested_strategy", "pid", "threads", "syscalls", "wall_ns",
                         "error", "differences", "warnings", "notes", "timers"]

    func testJSONFieldsOfAVerifiedModelRestore() throws {
        let result = try runTimerCRIU(["restore", try write(sample), "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try JSONValue.parse(Array(result.stdout))
        guard case let .object(members) = json else { return XCTFail("not an object") }
        XCTAssertEqual(members.map(\.0), Self.fields)
        XCTAssertEqual(json["ok"], .bool(true))
        XCTAssertEqual(json["kernel"], .string("linux-6.15 (model)"))
        XCTAssertEqual(json["strategy"], .string("create-at-id"))
        XCTAssertEqual(json["requested_strategy"], .string("auto"))
        XCTAssertEqual(json["error"], .null)
        XCTAssertEqual(json["notes"], .array([]), "the model restores overruns")
        let syscalls = try XCTUnwrap(json["syscalls"])
        XCTAssertEqual(syscalls["timer_create"]?.integer, 3)
        XCTAssertEqual(syscalls["timer_settime"]?.integer, 2, "the disarmed timer is not armed")
        XCTAssertEqual(syscalls["prctl"]?.integer, 2)
        XCTAssertEqual(syscalls["total"]?.integer, 7)
        guard case let .array(threads)? = json["threads"], case let .array(timers)? = json["timers"] else {
            return XCTFail("threads/timers")
        }
        XCTAssertEqual(threads.count, 2)
        XCTAssertEqual(timers.map { $0["id"]?.integer }, [0, 7, 123_456])
        XCTAssertEqual(timers[1]["notify_target"], threads[1])
        XCTAssertEqual(timers[1]["overrun"]?.integer, 3)
        XCTAssertEqual(timers[1]["value_ns"]?.integer, 2_000_000_000)
        XCTAssertEqual(timers[0]["value_ns"]?.integer, 0)
    }

    func testHumanOutput() throws {
        let result = try runTimerCRIU(["restore", try write(sample), "--strategy", "dance"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdoutText.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("restored 3 timer(s) on linux-6.15 (model) by dance into pid "), lines[0])
        XCTAssertTrue(lines[1].hasPrefix("syscalls: timer_create 123457, timer_delete 123454, timer_settime 2"), lines[1])
        XCTAssertTrue(lines.contains { $0.hasPrefix("  7 ") && $0.hasSuffix("2 s, every 1 s") }, result.stdoutText)
        XCTAssertTrue(lines.contains { $0.hasPrefix("  0 ") && $0.hasSuffix("disarmed") }, result.stdoutText)
        XCTAssertTrue(lines.last?.hasPrefix("verified: /proc/") == true, result.stdoutText)
        print(result.stdoutText)
    }

    func testDeadThreadNotifyNoneWarnsAndRestores() throws {
        let checkpoint = Checkpoint(pid: 500, kernel: "x", threads: [500], timers: [
            Self.timer(4, notify: .threadID, target: 999, exited: true),
        ])
        let result = try runTimerCRIU(["restore", try write(checkpoint), "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try JSONValue.parse(Array(result.stdout))
        XCTAssertEqual(json["warnings"], .array([.string("timer 4: notify thread 999 had exited; restored as SIGEV_NONE")]))
        guard case let .array(timers)? = json["timers"] else { return XCTFail("timers") }
        XCTAssertEqual(timers.first?["notify"], .string("none"))
    }

    /// The checkpoint's warnings (from dump) travel with the restore: in the
    /// JSON report and on stderr with the `timer-criu: warning:` prefix, in
    /// both modes and on both kernels; never in the stdout text.
    func testCheckpointWarningsAreCarried() throws {
        var checkpoint = Checkpoint(pid: 500, kernel: "x", threads: [500, 501], timers: [
            Self.timer(2, notify: .threadID, target: 501),
            Self.timer(3, clock: .threadCPUTime),
        ])
        checkpoint.timers[0].signal = 32
        checkpoint.warnings = Checkpoint.warnings(pid: 500, threads: [500, 501], timers: checkpoint.timers)
        XCTAssertEqual(checkpoint.warnings.count, 2)
        let path = try write(checkpoint)
        let expected = checkpoint.warnings.map { "timer-criu: warning: " + $0 }
        for kernel in ["linux-6.15", "host"] {
            for json in [false, true] {
                let result = try runTimerCRIU(["restore", path, "--kernel", kernel] + (json ? ["--json"] : []))
                let label = "\(kernel)\(json ? " --json" : "")"
                XCTAssertEqual(result.status, 0, "\(label): \(result.stderr)")
                XCTAssertEqual(result.stderrLines, expected, label)
                if !json { XCTAssertFalse(result.stdoutText.contains("looks like a glibc"), "\(label): \(result.stdoutText)") }
                if json {
                    let report = try JSONValue.parse(Array(result.stdout))
                    XCTAssertEqual(report["warnings"], .array(checkpoint.warnings.map { .string($0) }), label)
                }
            }
        }
    }

    /// A dump without --values has no times: the restore says so instead of
    /// a bare "disarmed" (as inspect says "not dumped"), in the table and a note.
    func testTimesNotDumpedAreSaidSo() throws {
        let plain = Checkpoint(pid: 500, kernel: "x", threads: [500], timers: [Self.timer(1), Self.timer(2)])
        let result = try runTimerCRIU(["restore", try write(plain)])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdoutText.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.filter { $0.hasSuffix("  disarmed (times not dumped)") }.count, 2, result.stdoutText)
        XCTAssertTrue(lines.contains("note: the checkpoint holds no timer values (dumped without --values): every timer is restored disarmed"),
                      result.stdoutText)
        let json = try JSONValue.parse(Array(try runTimerCRIU(["restore", try write(plain), "--json"]).stdout))
        XCTAssertEqual(json["notes"], .array([.string("the checkpoint holds no timer values (dumped without --values): every timer is restored disarmed")]))
        // With values dumped (0 = disarmed), nothing of the kind.
        let withValues = try runTimerCRIU(["restore", try write(sample)])
        XCTAssertFalse(withValues.stdoutText.contains("not dumped"), withValues.stdoutText)
    }

    func testDeadThreadNotifyFailExits2WithoutASyscall() throws {
        let checkpoint = Checkpoint(pid: 500, kernel: "x", threads: [500], timers: [
            Self.timer(1), Self.timer(4, notify: .threadID, target: 999, exited: true),
        ])
        let path = try write(checkpoint)
        let result = try runTimerCRIU(["restore", path, "--dead-thread-notify", "fail", "--json"])
        XCTAssertEqual(result.status, 2, result.stdoutText)
        let json = try JSONValue.parse(Array(result.stdout))
        XCTAssertEqual(json["error"]?["code"], .string("plan-refused"))
        XCTAssertEqual(json["syscalls"]?["total"]?.integer, 0)
        XCTAssertEqual(json["timers"], .array([]))
        let human = try runTimerCRIU(["restore", path, "--dead-thread-notify", "fail"])
        XCTAssertEqual(human.status, 2)
        XCTAssertTrue(human.stdoutText.contains("timer 4: notify thread 999 no longer exists"), human.stdoutText)
    }

    func testCPUClockOfAnotherPidExits2() throws {
        let checkpoint = Checkpoint(pid: 500, kernel: "x", threads: [500], timers: [Self.timer(3, clock: ClockID(-14))])
        let result = try runTimerCRIU(["restore", try write(checkpoint)])
        XCTAssertEqual(result.status, 2, result.stdoutText)
        XCTAssertTrue(result.stdoutText.contains("timer 3: clock "), result.stdoutText)
        XCTAssertTrue(result.stdoutText.contains("counts task 1, which is not part of this restore"), result.stdoutText)
    }

    func testCPUClockOfItsOwnPidIsRewritten() throws {
        let own = ClockID.cpuClock(pid: 500, perThread: false, type: .prof)
        let checkpoint = Checkpoint(pid: 500, kernel: "x", threads: [500], timers: [Self.timer(3, clock: own)])
        let result = try runTimerCRIU(["restore", try write(checkpoint), "--json"])
        XCTAssertEqual(result.status, 0, result.stdoutText)
        let json = try JSONValue.parse(Array(result.stdout))
        let pid = Int32(try XCTUnwrap(json["pid"]?.integer))
        guard case let .array(timers)? = json["timers"] else { return XCTFail("timers") }
        XCTAssertEqual(timers.first?["clock_id"]?.integer,
                       Int64(ClockID.cpuClock(pid: pid, perThread: false, type: .prof).rawValue))
    }

    func testFailedDanceOnLinux26Exits1AndListsWhatExists() throws {
        let checkpoint = Checkpoint(pid: 500, kernel: "x", threads: [500], timers: [Self.timer(0), Self.timer(4)])
        let result = try runTimerCRIU(["restore", try write(checkpoint), "--kernel", "linux-2.6", "--strategy", "dance", "--json"])
        XCTAssertEqual(result.status, 1)
        let json = try JSONValue.parse(Array(result.stdout))
        XCTAssertEqual(json["error"]?["code"], .string("ids-not-consecutive"))
        guard case let .array(timers)? = json["timers"] else { return XCTFail("timers") }
        XCTAssertEqual(timers.map { $0["id"]?.integer }, [0])
    }

    func testHoldNeedsTheHostKernel() throws {
        let result = try runTimerCRIU(["restore", try write(sample), "--hold"])
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.contains("--hold needs --kernel host"), result.stderr)
    }

    func testUnreadableCheckpointExits2() throws {
        let result = try runTimerCRIU(["restore", "/nonexistent/ck.json"])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.stdoutText, "")
    }
}
