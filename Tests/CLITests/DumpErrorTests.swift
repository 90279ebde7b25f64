import Foundation
import TestSupport
import TimerCore
import TimerFormats
import TimerComparison
import XCTest

/// Each way `timer-criu dump` can fail: one line on stderr naming the
/// problem, nothing on stdout, the exit code the README lists.
final class DumpErrorTests: XCTestCase {
    var cleanups: [() -> Void] = []

    override func tearDown() {
        for cleanup in cleanups.reversed() { cleanup() }
        cleanups = []
        super.tearDown()
    }

    /// A pid with no /proc entry (counting down from pid_max).
    static func unusedPID() throws -> Int32 {
        let text = try String(contentsOfFile: "/proc/sys/kernel/pid_max", encoding: .utf8)
        var pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 32768
        while pid > 300 {
            pid -= 1
            if !FileManager.default.fileExists(atPath: "/proc/\(pid)") { return pid }
        }
        throw TestSupportError("no unused pid")
    }

    func assertFails(_ arguments: [String], status: Int32, line expected: String,
                     file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try runTimerCRIU(arguments)
        XCTAssertEqual(result.status, status, result.stderr, file: file, line: line)
        XCTAssertEqual(result.stdout.count, 0, result.stdoutText, file: file, line: line)
        XCTAssertEqual(result.stderrLines, [expected], file: file, line: line)
    }

    func testNoSuchProcess() throws {
        let pid = try Self.unusedPID()
        try assertFails(["dump", "\(pid)"], status: 3, line: "timer-criu: no process with pid \(pid) (no /proc/\(pid))")
    }

    func testPIDGivenAsText() throws {
        // "--" so that "-5" is not taken for an option.
        for text in ["abc", "12x", "-5", "0", "+7", " 7", "2147483648", "0x10", ""] {
            try assertFails(["dump", "--", text], status: 64,
                            line: "timer-criu: pid \"\(text)\" is not a process id (expected an integer from 1 to 2147483647)")
        }
        try assertFails(["dump", "abc"], status: 64,
                        line: "timer-criu: pid \"abc\" is not a process id (expected an integer from 1 to 2147483647)")
    }

    func testAThreadIsNotAProcess() throws {
        let fixture = try FixtureProcess(["id=1,notify=thread_id"])
        cleanups.append { fixture.stop() }
        let tid = fixture.threads[0]
        try assertFails(["dump", "\(tid)"], status: 3,
                        line: "timer-criu: pid \(tid) is a thread of process \(fixture.pid), not a process: dump \(fixture.pid)")
    }

    /// As an unprivileged user, another user's process: /proc/PID/timers needs
    /// the right to ptrace it.
    func testNoPermission() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root to switch to an unprivileged user") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { throw XCTSkip("no setpriv") }
        let fixture = try FixtureProcess(["id=1"])
        cleanups.append { fixture.stop() }
        let binary = try BuiltProducts.path("timer-criu")
        let result = try runCommand("/usr/bin/setpriv", [
            "--reuid=65534", "--regid=65534", "--clear-groups", binary, "dump", "\(fixture.pid)",
        ])
        if result.status == 126 || result.status == 127 {
            throw XCTSkip("user 65534 cannot run \(binary): \(result.stderr)")
        }
        XCTAssertEqual(result.status, 4, result.stderr)
        XCTAssertEqual(result.stdout.count, 0)
        XCTAssertEqual(result.stderrLines, [
            "timer-criu: /proc/\(fixture.pid)/timers: EACCES: permission denied (it belongs to uid 0 and this process (fsuid 65534) has no CAP_SYS_PTRACE)",
        ])
    }

    /// A root process without CAP_SYS_PTRACE against a root process that holds
    /// capabilities it lacks: the kernel's commoncap check (the reason `dump 1`
    /// fails in a container whose pid 1 keeps more capabilities) is named.
    func testRootWithoutTheTargetsCapabilities() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { throw XCTSkip("no setpriv") }
        let fixture = try FixtureProcess(["id=1"])
        cleanups.append { fixture.stop() }
        let result = try runCommand("/usr/bin/setpriv", [
            "--bounding-set=-sys_ptrace,-net_admin", try BuiltProducts.path("timer-criu"), "dump", "\(fixture.pid)",
        ])
        XCTAssertEqual(result.status, 4, result.stderr)
        XCTAssertEqual(result.stderrLines, [
            "timer-criu: /proc/\(fixture.pid)/timers: EACCES: permission denied (pid \(fixture.pid) holds capabilities "
                + "this process lacks (CAP_NET_ADMIN, CAP_SYS_PTRACE) and it has no CAP_SYS_PTRACE)",
        ])
    }

    /// A kernel without CONFIG_CHECKPOINT_RESTORE has /proc/PID but no
    /// `timers`; played with a proc root of our own.
    func testKernelWithoutProcTimers() throws {
        let root = try makeProcRoot()
        try FileManager.default.createDirectory(atPath: root + "/4242", withIntermediateDirectories: true)
        try assertFails(["dump", "4242", "--proc-root", root], status: 5,
                        line: "timer-criu: \(root)/4242/timers does not exist: this kernel has no /proc/PID/timers (it needs CONFIG_CHECKPOINT_RESTORE)")
    }

    /// Text in a form this parser does not know: exit 5 with the line number.
    func testUnknownProcFormat() throws {
        let root = try makeProcRoot()
        try FileManager.default.createDirectory(atPath: root + "/4242", withIntermediateDirectories: true)
        try Data("ID: 1\nsignal: 14/0000000000000000\nnotify: signal/pid.4242\nClockID: 0\nID: 2\nsignal: 14\n".utf8)
            .write(to: URL(fileURLWithPath: root + "/4242/timers"))
        try assertFails(["dump", "4242", "--proc-root", root], status: 5,
                        line: "timer-criu: \(root)/4242/timers: line 6: expected \"/\" after the signal number, found \"\"")
        // And a fake process with a good file dumps fine.
        try Data("ID: 1\nsignal: 14/0000000000000000\nnotify: signal/pid.4242\nClockID: 0\n".utf8)
            .write(to: URL(fileURLWithPath: root + "/4242/timers"))
        let ok = try runTimerCRIU(["dump", "4242", "--proc-root", root])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(try Checkpoint(json: Array(ok.stdout)).timers.map(\.id), [1])
    }

    /// A timerfd whose fdinfo is in no known form (here a cut one): exit 5,
    /// naming the fdinfo file and its line, nothing on stdout.
    func testUnknownTimerFDInfoFormat() throws {
        let root = try makeProcRoot()
        for dir in ["/4242/fd", "/4242/fdinfo"] {
            try FileManager.default.createDirectory(atPath: root + dir, withIntermediateDirectories: true)
        }
        try Data().write(to: URL(fileURLWithPath: root + "/4242/timers"))
        try FileManager.default.createSymbolicLink(atPath: root + "/4242/fd/7", withDestinationPath: "anon_inode:[timerfd]")
        try Data("pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t1039\nclockid: 1\nticks: 0\n".utf8)
            .write(to: URL(fileURLWithPath: root + "/4242/fdinfo/7"))
        try assertFails(["dump", "4242", "--proc-root", root], status: 5,
                        line: "timer-criu: \(root)/4242/fdinfo/7: line 7: truncated: expected \"settime flags: \" line, found the end of the text")
        // The same with its last three lines dumps the timerfd.
        try Data("pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t1039\nclockid: 1\nticks: 0\nsettime flags: 00\nit_value: (3, 5)\nit_interval: (0, 0)\n".utf8)
            .write(to: URL(fileURLWithPath: root + "/4242/fdinfo/7"))
        let ok = try runTimerCRIU(["dump", "4242", "--proc-root", root])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(ok.stdoutText.contains(
            #"{"fd": 7, "clock_id": 1, "clock": "monotonic", "flags": "0x0", "settime_flags": 0, "ticks": 0, "value_ns": 3000000005, "interval_ns": 0}"#),
            ok.stdoutText)
    }

    func makeProcRoot() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tc-proc-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        cleanups.append { try? FileManager.default.removeItem(atPath: root) }
        return root
    }

    /// A process that has exited but is not reaped (a zombie): its timers are
    /// gone (exit_itimers), so an empty list would be a lie.
    func testZombie() throws {
        let made = try Zombie()
        cleanups.append { made.kill() }
        let zombie = made.pid
        try assertFails(["dump", "\(zombie)"], status: 3,
                        line: "timer-criu: process \(zombie) has exited (a zombie): its timers are gone")
    }

    /// The process dies between reading its threads and its timers.
    func testProcessExitsWhileBeingRead() throws {
        let fixture = try FixtureProcess(["id=1", "id=2"])
        cleanups.append { fixture.stop() }
        let dump = Process()
        dump.executableURL = URL(fileURLWithPath: try BuiltProducts.path("timer-criu"))
        dump.arguments = ["dump", "\(fixture.pid)", "--debug-pause-ms", "1500"]
        let out = Pipe(), err = Pipe()
        dump.standardOutput = out
        dump.standardError = err
        try dump.run()
        usleep(400_000)
        kill(fixture.pid, SIGKILL)  // not reaped yet: a zombie, then reaped by stop()
        dump.waitUntilExit()
        XCTAssertEqual(dump.terminationStatus, 3)
        XCTAssertEqual(out.fileHandleForReading.readDataToEndOfFile().count, 0)
        XCTAssertEqual(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
                       "timer-criu: process \(fixture.pid) exited while its timers were being read\n")
    }

    func testHelpAndVersion() throws {
        let help = try runTimerCRIU(["dump", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdoutText.contains("""
            USAGE: timer-criu dump <pid> [--output <file>] [--tree] [--values]
                   timer-criu dump --from-proc-file <file> [--pid <pid>] [--output <file>]
            """), help.stdoutText)
        XCTAssertFalse(help.stdoutText.contains("proc-root"))
        let version = try runTimerCRIU(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertFalse(version.stdoutText.isEmpty)
    }
}
