import Foundation
import TestSupport
import TimerCore
import TimerFormats
import TimerComparison
import XCTest

/// `timer-criu criu action-script` run with the environment CRIU gives its
/// action scripts (criu/action-scripts.c), against a live process standing
/// in for the restored task: no CRIU needed.
final class CRIUActionScriptTests: XCTestCase {
    var scratch = ""
    var imageDirectory = ""
    var imageFD: Int32 = -1

    override func setUpWithError() throws {
        scratch = NSTemporaryDirectory() + "criu-action-\(getpid())-\(UUID().uuidString.prefix(8))"
        imageDirectory = scratch + "/img"
        try FileManager.default.createDirectory(atPath: imageDirectory, withIntermediateDirectories: true)
        // CRIU passes its own open fd of the image directory as /proc/CRIUPID/fd/N.
        imageFD = open(imageDirectory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        XCTAssertGreaterThanOrEqual(imageFD, 0)
    }

    override func tearDownWithError() throws {
        if imageFD >= 0 { close(imageFD) }
        try? FileManager.default.removeItem(atPath: scratch)
    }

    func runScript(_ action: String?, root: Int32?) throws -> CommandResult {
        var environment = ["TMPDIR": scratch, "CRTOOLS_IMAGE_DIR": "/proc/\(getpid())/fd/\(imageFD)"]
        if let action { environment["CRTOOLS_SCRIPT_ACTION"] = action }
        if let root { environment["CRTOOLS_INIT_PID"] = String(root) }
        return try runCommand(try BuiltProducts.path("timer-criu"), ["criu", "action-script"], environment: environment)
    }

    func writeTimers(_ checkpoint: Checkpoint) throws {
        try Data(checkpoint.jsonBytes()).write(to: URL(fileURLWithPath: imageDirectory + "/timer-criu.json"))
    }

    var stateFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? []).filter { $0.hasPrefix("timer-criu-action-") }
    }

    func testEveryOtherActionDoesNothing() throws {
        for action in ["pre-dump", "post-dump", "pre-restore", "network-lock", "network-unlock", "setup-namespaces",
                       "post-setup-namespaces", "pre-resume", "orphan-pts-master", "status-ready", "query-ext-files"] {
            let result = try runScript(action, root: 1)
            XCTAssertEqual(result.status, 0, action)
            XCTAssertEqual(result.stdoutText, "", action)
            XCTAssertEqual(result.stderr, "", action)
        }
        XCTAssertEqual(stateFiles, [])
    }

    func testRunOutsideCRIUSaysSo() throws {
        let result = try runScript(nil, root: nil)
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr, "timer-criu: action-script: CRTOOLS_SCRIPT_ACTION is not set: this is CRIU's --action-script, run by criu restore\n")
    }

    func testADirectoryNotWrittenByStripIsLeftAlone() throws {
        let result = try runScript("post-restore", root: getpid())
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.stderr, "timer-criu: post-restore: no timer-criu.json in the image directory (not written by timer-criu criu strip): no timers to put back\n")
        let resume = try runScript("post-resume", root: getpid())
        XCTAssertEqual(resume.status, 0)
        XCTAssertEqual(resume.stderr, "timer-criu: post-resume: no timers to put back (no timer-criu.json was found at post-restore)\n")
    }

    /// post-restore fails (and CRIU aborts the restore) when a process or a
    /// thread the timers need is not among the restored tasks.
    func testPostRestoreRefusesWhatTheRestoredTreeLacks() throws {
        let target = try FixtureProcess([])
        defer { target.stop() }
        let pid = target.pid
        try writeTimers(Checkpoint(pid: pid + 1, kernel: "criu-image", threads: [pid + 1], timers: []))
        var result = try runScript("post-restore", root: pid)
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr, "timer-criu: post-restore: the restored root task \(pid) (CRTOOLS_INIT_PID) is task \(pid) in its pid namespace, but the root of timer-criu.json is process \(pid + 1)\n")

        try writeTimers(Checkpoint(pid: pid, kernel: "criu-image", threads: [pid, 999_999], timers: [
            CheckpointTimer(id: 4, clockID: .monotonic, signal: 34, sigevValue: 0, notify: .threadID, notifyTarget: 999_999,
                            valueNanoseconds: 0, intervalNanoseconds: 0, overrun: 0),
        ]))
        result = try runScript("post-restore", root: pid)
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr, "timer-criu: post-restore: process \(pid) (restored as \(pid)): thread 999999, which its timers need, was not restored\n")
        XCTAssertEqual(stateFiles, [], "nothing kept after a refusal")
    }

    /// The whole flow on a live two-thread process: post-restore while the
    /// image directory is open, then post-resume after it was closed (as
    /// CRIU closes it), and the timers are in the process.
    func testTheTimersArePutIntoTheRunningProcess() throws {
        let target = try FixtureProcess(["id=1,clock=monotonic,notify=thread_id,signal=34"])
        defer { target.stop() }
        let pid = target.pid, thread = try XCTUnwrap(target.threads.first)
        try writeTimers(Checkpoint(pid: pid, kernel: "criu-image", threads: [pid, thread], timers: [
            CheckpointTimer(id: 7, clockID: .realtime, signal: 40, sigevValue: 0xbeef, notify: .threadID, notifyTarget: thread,
                            valueNanoseconds: 200_000_000_000, intervalNanoseconds: 0, overrun: 0),
            CheckpointTimer(id: 3_000_000, clockID: .monotonic, signal: 14, sigevValue: 0x77, notify: .signal, notifyTarget: pid,
                            valueNanoseconds: 100_000_000_000, intervalNanoseconds: 5_000_000_000, overrun: 0),
        ]))
        let prepared = try runScript("post-restore", root: pid)
        XCTAssertEqual(prepared.status, 0, prepared.stderr)
        XCTAssertEqual(prepared.stderr, "timer-criu: post-restore: 2 timer(s) of 1 process(es) found in timer-criu.json; they are put back at post-resume\n")
        XCTAssertEqual(stateFiles, ["timer-criu-action-\(getpid())-\(pid).json"])
        close(imageFD)
        imageFD = -1

        let resumed = try runScript("post-resume", root: pid)
        if resumed.stderr.contains("is not in this build") {
            XCTAssertEqual(resumed.status, 1)
            throw XCTSkip("restore --into is not in this build yet: \(resumed.stderr)")
        }
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(resumed.stderr, "timer-criu: post-resume: put back 2 timer(s) into 1 process(es) (\(pid))\n")
        XCTAssertEqual(stateFiles, [], "the state file is gone")
        let timers = try String(contentsOfFile: "/proc/\(pid)/timers", encoding: .utf8)
        XCTAssertTrue(timers.contains("ID: 7\nsignal: 40/000000000000beef\nnotify: signal/tid.\(thread)\nClockID: 0\n"), timers)
        XCTAssertTrue(timers.contains("ID: 3000000\nsignal: 14/0000000000000077\nnotify: signal/pid.\(pid)\nClockID: 1\n"), timers)
        XCTAssertTrue(timers.contains("ID: 1\n"), "the process's own timer is still there")
    }
}
