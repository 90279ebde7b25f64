// restore - --into PID: the checkpoint on stdin reaches the detached worker,
// which is the one that reads it (the tool itself reads nothing).
import Foundation
import HostKernel
import TestSupport
import TimerCore
import TimerFormats
import XCTest

extension LiveRestoreTests {
    func testACheckpointOnStdinIsRestoredIntoALiveProcess() throws {
        try requireInjection()
        var checkpoint = Checkpoint(pid: 4242, kernel: "6.18", threads: [4242], timers: [])
        checkpoint.timers = [CheckpointTimer(id: 77_000, clockID: .monotonic, signal: 14, sigevValue: 0x77,
                                             notify: .signal, notifyTarget: 4242)]
        let path = work.appendingPathComponent("stdin.json").path
        try Data(checkpoint.jsonBytes()).write(to: URL(fileURLWithPath: path))
        let target = try FixtureProcess(["id=5"])
        defer { target.stop() }
        let tool = try BuiltProducts.path("timer-criu")
        let restore = try runCommand("/bin/sh", ["-c", "exec \"$0\" restore - --into \"$1\" < \"$2\"",
                                                 tool, "\(target.pid)", path])
        XCTAssertEqual(restore.status, 0, restore.stderr)
        XCTAssertTrue(restore.stdoutText.hasPrefix("restored 1 timer(s) on live process \(target.pid)"), restore.stdoutText)
        XCTAssertEqual(try procTimers(target.pid).map(\.id).sorted(), [5, 77_000])
    }
}
