#if canImport(Glibc)
import Glibc
#endif
import CTimerSyscalls
import TimerCore

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
        public init(checkpoint: Checkpoint, strategy: RestoreStrategy, deadThreadNotify: DeadThreadNotifyPolicy,
                    json: Bool, hold: Bool) {
            self.checkpoint = checkpoint
            self.strategy = strategy
            self.deadThreadNotify = deadThreadNotify
            self.json = json
            self.hold = hold
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
        let helper: ChildProcess
        do { helper = try ChildProcess(arguments) } catch { return .helperLost("\(error)") }
        let payload = request.checkpoint.jsonBytes()
        guard helper.send(Array("\(payload.count)\n".utf8) + payload) else {
            return .helperLost("restore helper (pid \(helper.pid)) exited before reading the checkpoint: \(helper.wait())")
        }
        // A SIGINT from the terminal reaches the helper too: it stops its
        // loop and reports. SIGTERM is ours alone: kill it at once.
        var interruptedAt: Int64? = nil
        let status = helper.readStatusLine {
            let signo = tc_stop_signal()
            if signo == SIGTERM { return true }
            if signo == SIGINT {
                let now = monotonicNanoseconds()
                if let t = interruptedAt { return now - t > 3_000_000_000 }
                interruptedAt = now
            }
            return false
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
        case "interrupted": helper.kill(); return .interrupted
        default:
            if tc_stop_signal() != 0 { helper.kill(); return .interrupted }
            let pid = helper.pid
            return .helperLost("restore helper (pid \(pid)) died: \(helper.wait())")
        }
    }

    // MARK: helper side

    /// The helper's main: runs in the fresh process `run` started.
    public static func helperMain(parent: Int32, strategy: RestoreStrategy, deadThreadNotify: DeadThreadNotifyPolicy,
                                  json: Bool, hold: Bool) -> Never {
        // Die with the tool, whatever kills it (even SIGKILL): no helper left behind.
        _ = tc_prctl(1 /* PR_SET_PDEATHSIG */, UInt(SIGKILL), 0, 0, 0)
        if getppid() != parent { exit(3) }
        tc_catch_stop_signal(SIGINT)
        tc_catch_stop_signal(SIGTERM)
        blockTimerSignals()
        func status(_ line: String) {
            let bytes = Array((line + "\n").utf8)
            _ = bytes.withUnsafeBytes { write(3, $0.baseAddress, $0.count) }
        }
        guard let payload = readPayload() else { status("refused"); exit(2) }
        let checkpoint: Checkpoint
        do { checkpoint = try Checkpoint(json: payload) } catch {
            writeErr("timer-criu: restore helper: \(error)\n")
            status("refused"); exit(2)
        }
        let kernel = HostKernel(extraThreads: RestorePlan.requiredExtraThreads(for: checkpoint))
        let progress = ProgressLine(enabled: isatty(2) != 0, label: strategy == .dance || strategy == .auto ? "dance" : strategy.rawValue)
        let control = RestoreControl(progress: { done, total in progress.update(done: done, total: total) },
                                     isCancelled: { tc_stop_signal() != 0 })
        let report = Restorer.restore(checkpoint, into: kernel, options: .init(
            strategy: strategy, deadThreadNotify: deadThreadNotify, control: control))
        progress.finish()
        let held = hold && report.ok
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
        status("held")
        close(3)
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        while true { pause() }
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

/// A one-line progress display on a terminal: IDs done, rate, time left.
final class ProgressLine {
    let enabled: Bool
    let label: String
    let clock = MonotonicClock()
    var lastDraw: Int64 = -1_000_000_000
    var drawn = false

    init(enabled: Bool, label: String) {
        self.enabled = enabled
        self.label = label
    }

    func update(done: Int64, total: Int64) {
        guard enabled else { return }
        let now = clock.elapsed
        guard now - lastDraw >= 250_000_000 || done == total else { return }
        lastDraw = now
        let seconds = Double(now) / 1e9
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let left = rate > 0 ? Double(total - done) / rate : 0
        let percent = total > 0 ? Double(done) * 100 / Double(total) : 100
        let line = "\r\(label): ID \(done) of \(total) (\(Int(percent))%), \(Int(rate)) IDs/s, "
            + "\(RestoreReport.formatDuration(Int64(left * 1e9))) left, Ctrl-C stops\u{1b}[K"
        HostRestore.writeErr(line)
        drawn = true
    }

    func finish() {
        if drawn { HostRestore.writeErr("\r\u{1b}[K") }
    }
}
