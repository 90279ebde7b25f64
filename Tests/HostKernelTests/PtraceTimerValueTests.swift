// dump --values on the real kernel: timer values read by ptrace syscall
// injection from a live timer-target, and the target carrying on unharmed.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import CTimerInject
import CTimerSyscalls
@testable import HostKernel
import TestSupport
import TimerCore
import TimerFormats
import TimerComparison
import XCTest

/// A running timer-target, started with posix_spawn; its stdout is a pipe.
final class TargetProcess {
    let pid: pid_t
    private let output: Int32
    private var buffer: [UInt8] = []
    private(set) var ids: [String: Int32] = [:]
    private var reaped = false

    static var binary: String? {
        if let path = ProcessInfo.processInfo.environment["TIMER_TARGET"] { return path }
        // The test runner is an executable in the build products directory, next to timer-target.
        guard let runner = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        let path = URL(fileURLWithPath: runner).deletingLastPathComponent().appendingPathComponent("timer-target").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    init(_ arguments: [String] = []) throws {
        guard let binary = Self.binary else { throw XCTSkip("timer-target is not built next to the tests (run swift build first)") }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw XCTSkip("pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        let argv = ([binary, "--lifetime", "120"] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, binary, &actions, nil, argv, environ)
        posix_spawn_file_actions_destroy(&actions)
        close(fds[1])
        guard rc == 0 else { close(fds[0]); throw XCTSkip("posix_spawn timer-target: \(rc)") }
        pid = child
        output = fds[0]
        guard let ready = readLine(timeout: 10), ready.hasPrefix("ready ") else {
            terminate()
            throw TargetFailure("timer-target did not say ready")
        }
        for field in ready.split(separator: " ").dropFirst(2) {
            let parts = field.split(separator: "=")
            if parts.count == 2, let id = Int32(parts[1]) { ids[String(parts[0])] = id }
        }
    }

    deinit { terminate() }

    func readLine(timeout: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let newline = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return nil }
            var poller = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(left * 1000) + 1)
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { return nil }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let got = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if got <= 0 { return nil }
            buffer += chunk[0..<got]
        }
    }

    struct Status {
        var signals: Int
        var steps: Int
        var checksumOK: Bool
        var waits: Int
        var waitErrors: Int
        var spurious: Int
        var line: String
    }

    /// Asks for a status line (SIGUSR1) and parses it.
    func status(timeout: Double = 5) throws -> Status {
        // Drop answers to earlier requests, then ask until answered: a request
        // that lands between the target's check and its next pause() is only
        // seen after the next wake-up (a lost-wakeup race of the target, not of the dump).
        while readLine(timeout: 0.01) != nil {}
        let deadline = Date().addingTimeInterval(timeout)
        while deadline.timeIntervalSinceNow > 0 {
            kill(pid, SIGUSR1)
            guard let line = readLine(timeout: min(0.5, max(0.01, deadline.timeIntervalSinceNow))),
                  line.hasPrefix("status ") else { continue }
            var fields: [String: String] = [:]
            for field in line.split(separator: " ").dropFirst() {
                let parts = field.split(separator: "=")
                if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
            }
            return Status(signals: Int(fields["signals"] ?? "") ?? -1, steps: Int(fields["steps"] ?? "") ?? -1,
                          checksumOK: fields["checksum"] == "ok", waits: Int(fields["waits"] ?? "") ?? -1,
                          waitErrors: Int(fields["waiterrors"] ?? "") ?? -1,
                          spurious: Int(fields["spurious"] ?? "") ?? -1, line: line)
        }
        throw TargetFailure("timer-target \(pid) did not answer SIGUSR1 within \(timeout) s (\(procState))")
    }

    /// `State:` letter and `TracerPid:` from /proc/PID/status.
    var procState: (state: String, tracer: Int) {
        guard let status = ProcFS.status(pid: pid) else { return ("gone", -1) }
        return (status.state.map(String.init) ?? "?", status.tracerPID.map(Int.init) ?? -1)
    }

    func terminate() {
        guard !reaped else { return }
        reaped = true
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        close(output)
    }
}

struct TargetFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

final class PtraceTimerValueTests: XCTestCase {
    /// Reads values, turning "not permitted here" into a skip with the reason.
    func readOrSkip(_ target: TargetProcess, _ ids: [Int32], inProcess: Bool = false) throws -> [Int32: DumpedTimerValues] {
        do {
            let (values, report) = try TimerValueReader.readWithReport(pid: target.pid, timerIDs: ids, inProcess: inProcess)
            XCTAssertGreaterThan(report.windowNanoseconds, 0)
            XCTAssertTrue(report.sigreturnFrame, "glibc x86-64 target: the window should be guarded by a sigreturn frame")
            return values
        } catch let error {
            if case .permissionDenied = error { throw XCTSkip("ptrace not permitted here: \(error)") }
            throw error
        }
    }

    /// The target is running, untraced, still firing and its work is intact.
    func assertUnharmed(_ target: TargetProcess, file: StaticString = #filePath, line: UInt = #line) throws {
        let (state, tracer) = target.procState
        XCTAssertFalse(state == "t" || state == "T", "target left stopped: State \(state)", file: file, line: line)
        XCTAssertEqual(tracer, 0, "target left traced", file: file, line: line)
        let first = try target.status()
        usleep(150_000)
        let second = try target.status()
        XCTAssertGreaterThan(second.signals, first.signals, "periodic timer stopped firing: \(second.line)", file: file, line: line)
        XCTAssertTrue(second.checksumOK, "computation corrupted: \(second.line)", file: file, line: line)
        XCTAssertEqual(second.waitErrors, 0, "a wait came back wrong: \(second.line)", file: file, line: line)
        XCTAssertEqual(second.spurious, 0, "a wait returned without a signal: \(second.line)", file: file, line: line)
    }

    /// Polls `condition` until it holds (no fixed sleep); fails after `timeout` s.
    func waitFor(_ what: String, timeout: Double = 10, file: StaticString = #filePath, line: UInt = #line,
                 _ condition: () throws -> Bool) rethrows {
        let deadline = Date().addingTimeInterval(timeout)
        while try !condition() {
            guard Date() < deadline else { return XCTFail("timed out waiting for \(what)", file: file, line: line) }
            usleep(5_000)
        }
    }

    func id(_ target: TargetProcess, _ name: String) throws -> Int32 {
        try XCTUnwrap(target.ids[name], "timer-target did not list \(name)")
    }

    func testArmedOneShotPeriodicAndDisarmedValues() throws {
        let target = try TargetProcess()
        defer { target.terminate() }
        let periodic = try id(target, "periodic"), oneshot = try id(target, "oneshot")
        let disarmed = try id(target, "disarmed"), long = try id(target, "long")
        try waitFor("the periodic timer's first signal") { try target.status().signals > 0 }
        let values = try readOrSkip(target, [periodic, oneshot, disarmed, long])
        let one = try XCTUnwrap(values[oneshot])
        XCTAssertGreaterThan(one.valueNanoseconds, 99_000_000_000)   // armed at 100 s a moment ago
        XCTAssertLessThanOrEqual(one.valueNanoseconds, 100_000_000_000)
        XCTAssertEqual(one.intervalNanoseconds, 0)
        let longValues = try XCTUnwrap(values[long])
        XCTAssertGreaterThan(longValues.valueNanoseconds, 49_000_000_000)
        XCTAssertLessThanOrEqual(longValues.valueNanoseconds, 50_000_000_000)
        XCTAssertEqual(longValues.intervalNanoseconds, 7_500_000_000)
        let tick = try XCTUnwrap(values[periodic])
        XCTAssertEqual(tick.intervalNanoseconds, 10_000_000)
        XCTAssertGreaterThanOrEqual(tick.valueNanoseconds, 0)
        XCTAssertLessThanOrEqual(tick.valueNanoseconds, 10_000_000)
        XCTAssertEqual(values[disarmed], DumpedTimerValues(valueNanoseconds: 0, intervalNanoseconds: 0, overrun: 0))
        for (_, value) in values { XCTAssertGreaterThanOrEqual(value.overrun, 0) }
        try assertUnharmed(target)
    }

    func testRepeatedDumpsLeaveComputationAndTimersIntact() throws {
        let target = try TargetProcess(["--threads", "2"])
        defer { target.terminate() }
        let ids = Array(target.ids.values)
        var windows: [Int64] = []
        for _ in 0..<100 {
            do {
                let (values, report) = try TimerValueReader.readWithReport(pid: target.pid, timerIDs: ids)
                XCTAssertEqual(values.count, ids.count)
                windows.append(report.windowNanoseconds)
            } catch let error {
                if case .permissionDenied = error { throw XCTSkip("ptrace not permitted here: \(error)") }
                throw error
            }
        }
        windows.sort()
        print("injection window for \(ids.count) timers over 100 dumps: median \(windows[50] / 1000) us, max \(windows[99] / 1000) us")
        try assertUnharmed(target)
    }

    func testBlockedInPauseSigsuspendAndNanosleepResumeCorrectly() throws {
        for wait in ["pause", "sigsuspend", "nanosleep"] {
            let target = try TargetProcess(["--wait", wait, "--signal-thread"])
            defer { target.terminate() }
            let ids = Array(target.ids.values)
            waitFor("\(wait): the target blocked in its wait") { target.procState.state == "S" }
            XCTAssertEqual(target.procState.state, "S", "\(wait): target should be blocked in its wait")
            for _ in 0..<20 {
                _ = try readOrSkip(target, ids)
                usleep(20_000)
            }
            // nanosleep: let at least one restarted 1 s sleep run to its end.
            if wait == "nanosleep" { try waitFor("a restarted 1 s nanosleep to end") { try target.status().waits >= 1 } }
            let status = try target.status()
            XCTAssertEqual(status.waitErrors, 0, "\(wait): \(status.line)")
            XCTAssertEqual(status.spurious, 0, "\(wait): \(status.line)")
            XCTAssertTrue(status.checksumOK, "\(wait): \(status.line)")
            if wait == "nanosleep" { XCTAssertGreaterThanOrEqual(status.waits, 1, "\(wait): \(status.line)") }
            try assertUnharmed(target)
        }
    }

    func testPeriodicSignalsToTheDumpedThreadAreKeptNotLost() throws {
        // The periodic signal goes to the main thread, the one we inject into;
        // signals blocked during the window must arrive afterwards, not be dropped.
        let target = try TargetProcess(["--wait", "pause"])
        defer { target.terminate() }
        let ids = Array(target.ids.values)
        for _ in 0..<50 { _ = try readOrSkip(target, ids) }
        try assertUnharmed(target)
    }

    func testStoppedTargetStaysStoppedAndUntraced() throws {
        let target = try TargetProcess()
        defer { target.terminate() }
        kill(target.pid, SIGSTOP)
        var tries = 0
        while target.procState.state != "T" && tries < 100 { usleep(10_000); tries += 1 }
        let values = try readOrSkip(target, [try id(target, "oneshot")])
        XCTAssertEqual(values.count, 1)
        XCTAssertEqual(target.procState.state, "T", "a stopped target must stay stopped")
        XCTAssertEqual(target.procState.tracer, 0)
        kill(target.pid, SIGCONT)
        try assertUnharmed(target)
    }

    func testInProcessInjectionGivesTheSameValues() throws {
        let target = try TargetProcess()
        defer { target.terminate() }
        let long = try id(target, "long")
        let values = try readOrSkip(target, [long], inProcess: true)
        XCTAssertEqual(values[long]?.intervalNanoseconds, 7_500_000_000)
        try assertUnharmed(target)
    }

    func testDeletedTimerIsReportedByIDAndTargetUnharmed() throws {
        let target = try TargetProcess()
        defer { target.terminate() }
        do {
            _ = try TimerValueReader.read(pid: target.pid, timerIDs: [try id(target, "periodic"), 9999])
            XCTFail("timer 9999 does not exist in the target")
        } catch let error as PtraceError {
            if case .permissionDenied = error { throw XCTSkip("ptrace not permitted here: \(error)") }
            guard case let .syscallFailed(pid, syscallError) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(pid, target.pid)
            XCTAssertEqual(syscallError.timerID, 9999)
            XCTAssertEqual(syscallError.errno, .EINVAL)
            XCTAssertEqual(error.description, "timer_gettime(id=9999): EINVAL: no such timer (deleted since it was listed?) (in process \(target.pid))")
        }
        try assertUnharmed(target)
    }

    func testNoSuchProcessAndZombie() throws {
        let target = try TargetProcess()
        let pid = target.pid
        kill(pid, SIGKILL)
        waitFor("pid \(pid) to become a zombie (killed, not reaped)") { target.procState.state == "Z" }
        XCTAssertThrowsError(try TimerValueReader.read(pid: pid, timerIDs: [0])) { error in
            XCTAssertEqual(error as? PtraceError, .processExited(pid: pid))
        }
        target.terminate()
        XCTAssertThrowsError(try TimerValueReader.read(pid: pid, timerIDs: [0])) { error in
            XCTAssertEqual(error as? PtraceError, .noSuchProcess(pid: pid))
            XCTAssertEqual("\(error)", "no process with pid \(pid)")
        }
        XCTAssertThrowsError(try TimerValueReader.read(pid: 0, timerIDs: [0])) { error in
            XCTAssertEqual(error as? PtraceError, .noSuchProcess(pid: 0))
        }
    }

    func testUnprivilegedTracerGetsPermissionDeniedAndTargetUnharmed() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root to start a root target and drop to nobody") }
        let target = try TargetProcess()
        defer { target.terminate() }
        XCTAssertThrowsError(try TimerValueReader.readAsUser(pid: target.pid, timerIDs: [0], uid: 65534, gid: 65534)) { error in
            guard case let .permissionDenied(pid, errno, _)? = error as? PtraceError else { return XCTFail("\(error)") }
            XCTAssertEqual(pid, target.pid)
            XCTAssertTrue(errno == .EPERM || errno == .EACCES)
            XCTAssertTrue("\(error)".hasPrefix("ptrace(PTRACE_SEIZE, \(target.pid)): EPERM: not allowed to trace it"), "\(error)")
            XCTAssertFalse("\(error)".contains("\n"))
        }
        try assertUnharmed(target)
    }

    func testReaderRunAsNobodyWithSetprivIsRefusedAtSeize() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root to start a root target and drop to nobody") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { throw XCTSkip("no /usr/bin/setpriv") }
        guard let binary = TargetProcess.binary else { throw XCTSkip("timer-target is not built") }
        let target = try TargetProcess()
        defer { target.terminate() }
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        reader.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", binary, "--read", "\(target.pid)", "0", "1"]
        let output = Pipe()
        reader.standardOutput = output
        try reader.run()
        reader.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        if text.isEmpty && reader.terminationStatus != 1 { throw XCTSkip("nobody cannot run \(binary) here (exit \(reader.terminationStatus))") }
        XCTAssertEqual(reader.terminationStatus, 1)
        XCTAssertEqual(text, "error stage=\(TC_INJECT_SEIZE.rawValue) err=\(EPERM) detail=0\n")
        try assertUnharmed(target)
    }

    func testMainThreadOnAnAlternateSignalStackIsLeftAlone() throws {
        if ActiveSanitizer.thread {
            // TSan runs a signal handler only when the handler the thread is in
            // returns; this target never leaves its SIGUSR2 handler, so it never
            // answers the SIGUSR1 that assertUnharmed sends.
            throw XCTSkip("under ThreadSanitizer the instrumented target defers SIGUSR1 while inside its never-returning SIGUSR2 handler")
        }
        // Below its stack pointer lies malloc'ed memory other threads may use:
        // no scratch there; the reader retries, then gives up cleanly.
        let target = try TargetProcess(["--wait", "altstack", "--threads", "1"])
        defer { target.terminate() }
        usleep(100_000)
        XCTAssertThrowsError(try TimerValueReader.read(pid: target.pid, timerIDs: [try id(target, "long")])) { error in
            if case .permissionDenied? = error as? PtraceError { return }
            XCTAssertEqual(error as? PtraceError, .injectionFailed(pid: target.pid, reason: "its main thread stayed off its own stack (on an alternate signal stack or a coroutine stack) for 50 tries; left untouched"))
        }
        try assertUnharmed(target)
    }

    func testEmptyTimerListDoesNotTouchTheTarget() throws {
        let target = try TargetProcess()
        defer { target.terminate() }
        let (values, report) = try TimerValueReader.readWithReport(pid: target.pid, timerIDs: [])
        XCTAssertTrue(values.isEmpty)
        XCTAssertEqual(report.workerPID, 0)
    }

    func testManyTimersAcrossScratchBatches() throws {
        // 150 reads of the same 4 ids: more than one 64-slot scratch batch.
        let target = try TargetProcess()
        defer { target.terminate() }
        let ids = Array(target.ids.values)
        let many = (0..<150).map { ids[$0 % ids.count] }
        let values = try readOrSkip(target, many)
        XCTAssertEqual(values[try id(target, "long")]?.intervalNanoseconds, 7_500_000_000)
        try assertUnharmed(target)
    }
}

/// The short form of Scripts/kill-loop.sh: kill the
/// reader at random points while it injects; the target must not notice.
final class PtraceKillTests: XCTestCase {
    func spawnReader(_ arguments: [String]) throws -> pid_t {
        guard let binary = TargetProcess.binary else { throw XCTSkip("timer-target is not built") }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t(), empty = sigset_t()
        sigemptyset(&defaults)
        sigemptyset(&empty)
        for signal in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        let argv = ([binary, "--read"] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, binary, &actions, &attributes, argv, environ)
        guard rc == 0 else { throw TargetFailure("posix_spawn: \(rc)") }
        return child
    }

    func testKillingTheReaderMidInjectionNeverHarmsTheTarget() throws {
        let target = try TargetProcess(["--threads", "1"])
        defer { target.terminate() }
        // Permission probe: skip (with the reason) where ptrace is not allowed.
        do {
            _ = try TimerValueReader.read(pid: target.pid, timerIDs: [0])
        } catch {
            // The do body throws only PtraceError, so `error` is one.
            if case .permissionDenied = error { throw XCTSkip("ptrace not permitted here: \(error)") }
            throw error
        }
        let ids = target.ids.values.map(String.init)
        var killedMidRun = 0
        for signal in [SIGKILL, SIGTERM, SIGINT] {
            for _ in 0..<8 {
                let reader = try spawnReader(["\(target.pid)"] + ids + ["--repeat", "20"])
                usleep(UInt32.random(in: 0..<60_000))
                kill(reader, signal)
                var status: Int32 = 0
                while waitpid(reader, &status, 0) < 0 && errno == EINTR {}
                if status & 0x7f == signal { killedMidRun += 1 }
                // The worker of a killed reader finishes on its own (it may even
                // seize only after the reader died): wait until the target has
                // been untraced and running for 100 ms in a row, at most 5 s.
                var calm = 0, tries = 0
                while calm < 10 && tries < 500 {
                    let (state, tracer) = target.procState
                    calm = tracer == 0 && state != "t" && state != "T" ? calm + 1 : 0
                    usleep(10_000)
                    tries += 1
                }
                try assertUnharmed(target, signal: signal)
            }
        }
        print("kill test: \(killedMidRun) of 24 readers killed mid-run, target unharmed")
        XCTAssertGreaterThan(killedMidRun, 0, "no kill landed during a run: the delays are too long")
    }

    func assertUnharmed(_ target: TargetProcess, signal: Int32, file: StaticString = #filePath, line: UInt = #line) throws {
        let (state, tracer) = target.procState
        XCTAssertFalse(state == "t" || state == "T" || state == "Z" || state == "g", "signal \(signal): State \(state)", file: file, line: line)
        XCTAssertEqual(tracer, 0, "signal \(signal): still traced", file: file, line: line)
        let first = try target.status()
        usleep(50_000)
        let second = try target.status()
        XCTAssertGreaterThan(second.signals, first.signals, "signal \(signal): \(second.line)", file: file, line: line)
        XCTAssertTrue(second.checksumOK, "signal \(signal): \(second.line)", file: file, line: line)
    }
}

/// The dead man's switch: the tracer dies at each step of the window in turn
/// (the worker _exits there, as a SIGKILL would end it: the kernel detaches);
/// the rt_sigreturn frame must bring the target back every time.
final class PtraceAbandonTests: XCTestCase {
    func testTracerDeathAtEveryStepOfTheWindowIsHarmless() throws {
        for (mode, arguments) in [("compute", ["--threads", "1"]), ("pause", ["--wait", "pause", "--signal-thread"]),
                                  ("sigsuspend", ["--wait", "sigsuspend"]), ("nanosleep", ["--wait", "nanosleep", "--signal-thread"])] {
            let target = try TargetProcess(arguments)
            defer { target.terminate() }
            let ids = [try XCTUnwrap(target.ids["long"]), try XCTUnwrap(target.ids["oneshot"])]
            var abandonedSteps = 0
            for step in 1...20 {
                var out = [tc_timer_values](repeating: tc_timer_values(), count: ids.count)
                var report = tc_inject_report()
                let stage = tc_ptrace_read_timer_values_abandoning(target.pid, ids, Int32(ids.count), &out, &report, Int32(step))
                if stage == Int32(TC_INJECT_SEIZE.rawValue) && (report.err == EPERM || report.err == EACCES) {
                    throw XCTSkip("ptrace not permitted here")
                }
                XCTAssertEqual(report.sigreturn_frame, 1, "\(mode): no sigreturn frame")
                if stage == 0 { break }  // the injection ended before this step
                XCTAssertEqual(stage, Int32(TC_INJECT_WORKER.rawValue), "\(mode) step \(step): stage \(stage) err \(report.err)")
                abandonedSteps += 1
                var tries = 0
                while target.procState.tracer != 0 && tries < 300 { usleep(10_000); tries += 1 }
                let (state, tracer) = target.procState
                XCTAssertEqual(tracer, 0, "\(mode) step \(step)")
                XCTAssertFalse(state == "t" || state == "T" || state == "Z", "\(mode) step \(step): State \(state)")
                let first = try target.status()
                usleep(60_000)
                let second = try target.status()
                XCTAssertGreaterThan(second.signals, first.signals, "\(mode) step \(step): \(second.line)")
                XCTAssertTrue(second.checksumOK, "\(mode) step \(step): \(second.line)")
                XCTAssertEqual(second.waitErrors, 0, "\(mode) step \(step): \(second.line)")
                if mode != "nanosleep" {
                    // nanosleep: a sigreturn cancels the restart block, so the
                    // interrupted sleep returns EINTR early (what CRIU does too).
                    XCTAssertEqual(second.spurious, 0, "\(mode) step \(step): \(second.line)")
                }
            }
            print("\(mode): tracer died at each of \(abandonedSteps) window steps, target unharmed")
            XCTAssertGreaterThanOrEqual(abandonedSteps, 6, mode)
        }
    }
}
