// restore --into whose tool is killed mid-restore: the detached worker
// (DetachedWorker) finishes it, or rolls it back when asked to stop, so the
// target is never left with half a checkpoint (Scripts/kill-loop.sh --into
// does the same at random points).
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
    /// 3,000 POSIX timers (IDs 5000-7999), a timerfd at fd 30, a periodic ITIMER_REAL.
    func killedToolCheckpoint() throws -> String {
        var checkpoint = Checkpoint(pid: 4242, kernel: "6.18", threads: [4242], timers: (5000..<8000).map {
            CheckpointTimer(id: Int32($0), clockID: .monotonic, signal: 14, sigevValue: 0, notify: .none, notifyTarget: 4242,
                            valueNanoseconds: 60_000_000_000, intervalNanoseconds: 0, overrun: 0)
        })
        checkpoint.timerFDs = [CheckpointTimerFD(fd: 30, clockID: .boottime, flags: 0, settimeFlags: 0, ticks: 0,
                                                 valueNanoseconds: 40_000_000_000, intervalNanoseconds: 1_000_000_000)]
        checkpoint.itimers = CheckpointITimers(real: TimerValue(valueNanoseconds: 500_000_000_000, intervalNanoseconds: 250_000_000_000))
        let path = work.appendingPathComponent("killed-tool.json").path
        try Data(checkpoint.jsonBytes()).write(to: URL(fileURLWithPath: path))
        return path
    }

    func tracer(of pid: Int32) -> Int32? {
        ProcFS.status(pid: pid)?.tracerPID
    }

    /// Starts `restore PATH --into PID`, waits until the target is traced (the
    /// restore is under way), sends `signal` to the tool and waits until the
    /// target is untraced again; returns the tool's exit status.
    func signalToolMidRestore(_ path: String, into pid: Int32, _ signal: Int32) throws -> Int32 {
        let tool = Process()
        tool.executableURL = URL(fileURLWithPath: try BuiltProducts.path("timer-criu"))
        tool.arguments = ["restore", path, "--into", "\(pid)"]
        tool.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        let errors = Pipe()
        tool.standardError = errors
        try tool.run()
        let deadline = Date().addingTimeInterval(20)
        while (tracer(of: pid) ?? 0) == 0 && tool.isRunning && Date() < deadline { usleep(500) }
        guard tool.isRunning, (tracer(of: pid) ?? 0) != 0 else {
            tool.waitUntilExit()
            // Only a restore that succeeded first is a reason to skip; a failed one is a failure.
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            guard tool.terminationStatus == 0 else {
                XCTFail("the restore failed before the tool could be signalled (exit \(tool.terminationStatus)): \(stderr)")
                return tool.terminationStatus
            }
            throw XCTSkip("the restore was over before the tool could be signalled (exit 0)")
        }
        kill(tool.processIdentifier, signal)
        tool.waitUntilExit()
        while (tracer(of: pid) ?? 0) != 0 && Date() < deadline { usleep(1000) }
        XCTAssertEqual(tracer(of: pid), 0, "the target is untraced within 20 s")
        return tool.terminationStatus
    }

    func testASIGKILLedToolsRestoreIsFinishedWhole() throws {
        try requireInjection()
        let path = try killedToolCheckpoint()
        let target = try FixtureProcess(["id=5", "--itimer", "which=real,arm=600s"])
        defer { target.stop() }
        let status = try signalToolMidRestore(path, into: target.pid, SIGKILL)
        XCTAssertEqual(status, SIGKILL, "the tool died of the SIGKILL")
        let ids = Set(try ProcTimersParser.parse(try ProcFS.readTimers(pid: target.pid)).map(\.id))
        XCTAssertTrue(ids.isSuperset(of: Set(5000..<8000)), "all 3,000 POSIX timers: \(ids.count) timers")
        XCTAssertEqual(try fdinfo(target.pid, 30).clockID, .boottime, "the timerfd placed")
        XCTAssertEqual(try fdinfo(target.pid, 30).intervalNanoseconds, 1_000_000_000)
        XCTAssertEqual(try itimers(of: target.pid)[0].intervalNanoseconds, 250_000_000_000, "ITIMER_REAL set")
    }

    func testASIGTERMedToolsRestoreIsRolledBackWhole() throws {
        try requireInjection()
        let path = try killedToolCheckpoint()
        let target = try FixtureProcess(["id=5", "--itimer", "which=real,arm=600s"])
        defer { target.stop() }
        let fdsBefore = ProcFS.openFDs(pid: target.pid)
        let status = try signalToolMidRestore(path, into: target.pid, SIGTERM)
        XCTAssertEqual(status, 130, "interrupted")
        let ids = Set(try ProcTimersParser.parse(try ProcFS.readTimers(pid: target.pid)).map(\.id))
        XCTAssertTrue(ids.isDisjoint(with: Set(5000..<8000)), "no POSIX timer of the checkpoint left")
        XCTAssertEqual(ProcFS.openFDs(pid: target.pid), fdsBefore, "fd 30 not left open")
        let real = try itimers(of: target.pid)[0]
        XCTAssertEqual(real.intervalNanoseconds, 0, "its own one-shot ITIMER_REAL back")
        XCTAssertGreaterThan(real.valueNanoseconds, 500_000_000_000)
    }
}
