#if canImport(Glibc)
import Glibc
#endif
import CTimerSyscalls
import TimerCore
import TimerFormats

/// Restores a checkpoint on the real kernel: into a fresh helper process (its
/// timer ID counter starts at 0, as the dance needs) that runs the same
/// strategy code as the model, through `HostKernel`. The helper prints the
/// report itself (it verifies by reading its own /proc/PID/timers), then
/// either exits or, with `hold`, keeps its timers until killed.
///
/// Parent and helper talk over two pipes: the helper's stdin carries the
/// checkpoint (a length line, then the JSON) and later one command line
/// ("hold" or "exit"); its fd 3 carries status lines ("ok", "failed",
/// "interrupted", "refused", then "held").
public enum HostRestore {
    public struct Request: Sendable {
        public var checkpoint: Checkpoint
        public var strategy: RestoreStrategy
        public var deadThreadNotify: DeadThreadNotifyPolicy
        public var json: Bool
        public var hold: Bool
        /// In a tree restore: the dumped pid, named in the helper's warning lines.
        public var process: Int32?
        public init(checkpoint: Checkpoint, strategy: RestoreStrategy, deadThreadNotify: DeadThreadNotifyPolicy,
                    json: Bool, hold: Bool, process: Int32? = nil) {
            self.checkpoint = checkpoint
            self.strategy = strategy
            self.deadThreadNotify = deadThreadNotify
            self.json = json
            self.hold = hold
            self.process = process
        }
    }

    /// How a host restore ended, for the exit code.
    public enum Outcome: Equatable, Sendable {
        case verified
        case failed
        case refused
        case interrupted
        /// The helper died or could not start (message says why).
        case helperLost(String)
        /// Verified, and the helper keeps the timers.
        case held(pid: Int32)
    }

    /// The hidden subcommand the helper is started with.
    public static let helperCommand = "_restore-helper"

    // MARK: parent side

    /// Starts the helper, hands it the checkpoint, waits for its verdict. The
    /// helper dies with us (1 /* PR_SET_PDEATHSIG */) and is killed on every path
    /// except a successful `hold`.
    public static func run(_ request: Request, executable: String = ChildProcess.currentExecutable) -> Outcome {
        tc_catch_stop_signal(SIGINT)
        tc_catch_stop_signal(SIGTERM)
        var arguments = [executable, helperCommand, "--parent", String(getpid()),
                         "--strategy", request.strategy.rawValue,
                         "--dead-thread-notify", request.deadThreadNotify.rawValue]
        if request.json { arguments.append("--json") }
        if request.hold { arguments.append("--hold") }
        if let process = request.process { arguments += ["--process", String(process)] }
        let helper: ChildProcess
        do { helper = try ChildProcess(arguments) } catch { return .helperLost("\(error)") }
        let payload = request.checkpoint.jsonBytes()
        guard helper.send(Array("\(payload.count)\n".utf8) + payload) else {
            return .helperLost("restore helper (pid \(helper.pid)) exited before reading the checkpoint: \(helper.wait())")
        }
        // SIGINT and SIGTERM alike: a SIGINT from the terminal reaches the
        // helper too; a signal sent to the tool alone (a script, a test,
        // systemd's SIGTERM) does not, so pass it on to exactly the helper's
        // pid. Either way the helper stops its loop and reports (the same
        // report, JSON with --json, as any other end); after 3 s without a
        // report it is killed.
        var interruptedAt: Int64? = nil
        let status = helper.readStatusLine {
            let signo = tc_stop_signal()
            if signo == SIGINT || signo == SIGTERM {
                let now = monotonicNanoseconds()
                if let t = interruptedAt { return now - t > 3_000_000_000 }
                interruptedAt = now
                _ = kill(helper.pid, signo)
            }
            return false
        }
        // Stopped by the user but the helper finished first: still a stop
        // (exit 130), and a --hold helper is not kept.
        if status == "ok", tc_stop_signal() != 0 {
            helper.kill()
            writeErr("timer-criu: interrupted: the restore had just finished; restore helper (pid \(helper.pid)) killed\n")
            return .interrupted
        }
        switch status {
        case "ok" where request.hold:
            guard helper.send(Array("hold\n".utf8)), helper.readStatusLine() == "held" else {
                return .helperLost("restore helper (pid \(helper.pid)) did not confirm hold: \(helper.wait())")
            }
            helper.release()
            return .held(pid: helper.pid)
        case "ok": helper.kill(); return .verified
        case "failed": helper.kill(); return .failed
        case "refused": helper.kill(); return .refused
        case "interrupted":
            helper.kill()
            writeErr(StopSignals.interruptionLine)
            return .interrupted
        default:
            let signo = tc_stop_signal()
            if signo != 0 {
                helper.kill()
                writeErr("timer-criu: interrupted by \(signo == SIGTERM ? "SIGTERM" : "SIGINT"): "
                    + "restore helper (pid \(helper.pid)) killed before it reported\n")
                return .interrupted
            }
            let pid = helper.pid
            return .helperLost("restore helper (pid \(pid)) died: \(helper.wait())")
        }
    }

    // MARK: helper side

    /// The helper's main: runs in the fresh process `run` started.
    public static func helperMain(parent: Int32, strategy: RestoreStrategy, deadThreadNotify: DeadThreadNotifyPolicy,
                                  json: Bool, hold: Bool, process: Int32? = nil) -> Never {
        // Die with the tool, whatever kills it (even SIGKILL): no helper left behind.
        _ = tc_prctl(1 /* PR_SET_PDEATHSIG */, UInt(SIGKILL), 0, 0, 0)
        if getppid() != parent { exit(3) }
        closeInheritedDescriptors()
        tc_catch_stop_signal(SIGINT)
        tc_catch_stop_signal(SIGTERM)
        blockTimerSignals()
        // The status pipe is fd 3 until a timerfd of the checkpoint needs that number.
        var statusFD: Int32 = 3
        func status(_ line: String) {
            let bytes = Array((line + "\n").utf8)
            _ = bytes.withUnsafeBytes { write(statusFD, $0.baseAddress, $0.count) }
        }
        guard let payload = readPayload() else { status("refused"); exit(2) }
        let checkpoint: Checkpoint
        do { checkpoint = try Checkpoint(json: payload) } catch {
            writeErr("timer-criu: restore helper: \(error)\n")
            status("refused"); exit(2)
        }
        let wantedFDs = Set(checkpoint.timerFDs?.map(\.fd) ?? [])
        if wantedFDs.contains(statusFD), let highest = wantedFDs.max(), tc_dup3(statusFD, highest + 1, O_CLOEXEC) >= 0 {
            close(statusFD)
            statusFD = highest + 1
        }
        let kernel = HostKernel(extraThreads: RestorePlan.requiredExtraThreads(for: checkpoint))
        let progress = ProgressLine.onStandardError(label: strategy == .dance || strategy == .auto ? "dance" : strategy.rawValue)
        let control = RestoreControl(progress: { done, total in progress.update(done: done, total: total) },
                                     isCancelled: { tc_stop_signal() != 0 })
        let options = Restorer.Options(strategy: strategy, deadThreadNotify: deadThreadNotify, control: control)
        let hooks = DebugHooks.fromEnvironment()
        RacingThreads.start(hooks.racingThreads, wantedIDs: checkpoint.timers.map(\.id))
        let report = hooks.createDelayMicroseconds > 0
            ? Restorer.restore(checkpoint, into: SlowCreateKernel(kernel, delayMicroseconds: hooks.createDelayMicroseconds),
                               options: options)
            : Restorer.restore(checkpoint, into: kernel, options: options)
        progress.finish()
        let held = hold && report.ok
        writeErr(report.warningLines(process: process))
        if json {
            var extra: [(key: String, rawJSON: String)] = [("helper_pid", String(getpid()))]
            if hold { extra.append(("held", String(held))) }
            writeOut(String(decoding: report.jsonBytes(extra: extra), as: UTF8.self))
        } else {
            writeOut(report.humanText)
            if held { writeOut("holding: helper pid \(getpid()) keeps the timers until killed (kill \(getpid()))\n") }
        }
        switch report.error?.code {
        case nil: status("ok")
        case .planRefused?: status("refused"); exit(2)
        case .interrupted?: status("interrupted"); exit(130)
        default: status("failed"); exit(1)
        }
        guard held, readRawLine() == "hold" else { exit(0) }
        // Keep the timers: outlive the tool, leave its terminal and session.
        _ = tc_prctl(1 /* PR_SET_PDEATHSIG */, 0, 0, 0, 0)
        setsid()
        let devnull = open("/dev/null", O_RDWR)
        dup2(devnull, 0); dup2(devnull, 1); dup2(devnull, 2)
        if devnull > 2 { close(devnull) }
        status("held")
        close(statusFD)
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        while true { pause() }
    }

    /// Closes every descriptor above 3 that the tool's parent let us inherit
    /// (posix_spawn passes all that are not close-on-exec). A held helper
    /// outlives the tool: an inherited pipe or socket, such as the one
    /// Foundation's Process watches for its child's exit, would otherwise
    /// stay open and make the caller wait for the helper.
    static func closeInheritedDescriptors() {
        guard let directory = opendir("/proc/self/fd") else { return }
        let own = dirfd(directory)
        var inherited: [Int32] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if let fd = Int32(name), fd > 3, fd != own { inherited.append(fd) }
        }
        closedir(directory)
        for fd in inherited { close(fd) }
    }

    static func monotonicNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.nanoseconds
    }

    /// Blocks every signal a restored timer might send, except the ones that
    /// stop the helper (SIGINT, SIGTERM): an armed SIGALRM timer must not kill it.
    static func blockTimerSignals() {
        var set = sigset_t()
        sigfillset(&set)
        sigdelset(&set, SIGINT)
        sigdelset(&set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Reads "<length>\n<bytes>" from stdin.
    static func readPayload() -> [UInt8]? {
        guard let header = readRawLine(), let length = Int(header), length >= 0,
              length <= 512 << 20 else { return nil }
        var bytes = [UInt8](repeating: 0, count: length)
        var offset = 0
        while offset < length {
            let n = bytes.withUnsafeMutableBytes { read(0, $0.baseAddress! + offset, length - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            offset += n
        }
        return bytes
    }

    /// One line from stdin with read(2): stdio's readLine would buffer past it
    /// and swallow the payload that follows.
    static func readRawLine() -> String? {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = read(0, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return line.isEmpty ? nil : String(decoding: line, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
    }

    static func writeOut(_ text: String) { writeAll(1, text) }
    static func writeErr(_ text: String) { writeAll(2, text) }
    static func writeAll(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}
