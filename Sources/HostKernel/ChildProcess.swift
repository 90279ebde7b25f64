#if canImport(Glibc)
import Glibc
#endif
import CTimerSyscalls
import SystemPackage
import TimerCore

/// A child process started with posix_spawn, with pipes to its stdin and to
/// an extra status descriptor (fd 3 in the child). Used for helpers that must
/// be fresh processes (a restore target, a `simulate --kernel host` run).
/// Whoever starts one kills exactly that pid.
public final class ChildProcess {
    public let pid: pid_t
    /// Write end of the child's stdin.
    public private(set) var input: Int32
    /// Read end of the child's fd 3.
    public private(set) var status: Int32
    private var reaped = false

    public struct SpawnError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The path of the running executable (for re-executing ourselves).
    public static var currentExecutable: String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : "/proc/self/exe"
    }

    /// Starts `arguments[0]` with `arguments`; stdout and stderr are inherited.
    public init(_ arguments: [String]) throws {
        var stdinPipe: [Int32] = [0, 0]
        var statusPipe: [Int32] = [0, 0]
        guard tc_pipe_cloexec(&stdinPipe) == 0, tc_pipe_cloexec(&statusPipe) == 0 else {
            throw SpawnError(description: "pipe2: \(KernelErrno.current.nameAndMessage)")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears O_CLOEXEC on the target descriptor.
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, statusPipe[1], 3)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, arguments[0], &actions, nil, &argv, environ)
        close(stdinPipe[0])
        close(statusPipe[1])
        guard rc == 0 else {
            close(stdinPipe[1]); close(statusPipe[0])
            throw SpawnError(description: "posix_spawn \(arguments[0]): \(KernelErrno(rawValue: rc).nameAndMessage)")
        }
        pid = child
        input = stdinPipe[1]
        status = statusPipe[0]
        signal(SIGPIPE, SIG_IGN)  // a dead child must give EPIPE, not kill us
    }

    deinit {
        kill()
        if input >= 0 { close(input) }
        if status >= 0 { close(status) }
    }

    /// Writes all of `bytes` to the child's stdin.
    public func send(_ bytes: [UInt8]) -> Bool {
        (try? FileDescriptor(rawValue: input).writeAll(bytes)) != nil
    }

    /// Closes the child's stdin (it reads EOF).
    public func closeInput() {
        if input >= 0 { close(input); input = -1 }
    }

    /// Reads one line from fd 3, polling `shouldStop` every 100 ms; nil on EOF
    /// or when `shouldStop` says so.
    public func readStatusLine(shouldStop: () -> Bool = { false }) -> String? {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            guard awaitStatus(shouldStop: shouldStop) else { return nil }
            let n = withUnsafeMutableBytes(of: &byte) { try? FileDescriptor(rawValue: status).read(into: $0) }
            guard n == 1 else { return nil }
            if byte == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
    }

    /// Reads exactly `count` bytes from fd 3, polling `shouldStop` every
    /// 100 ms; nil on EOF first or when `shouldStop` says so.
    func readStatus(exactly count: Int, shouldStop: () -> Bool = { false }) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            guard awaitStatus(shouldStop: shouldStop) else { return nil }
            let n = bytes.withUnsafeMutableBytes { raw in
                try? FileDescriptor(rawValue: status).read(into: UnsafeMutableRawBufferPointer(rebasing: raw[offset...]))
            }
            guard let n, n > 0 else { return nil }
            offset += n
        }
        return bytes
    }

    /// Polls fd 3 until it is readable (true), asking `shouldStop` every
    /// 100 ms (false when it says so).
    private func awaitStatus(shouldStop: () -> Bool) -> Bool {
        while true {
            var pfd = pollfd(fd: status, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, 100)
            if ready == 0 || (ready < 0 && Glibc.errno == EINTR) {
                if shouldStop() { return false }
                continue
            }
            return true
        }
    }

    /// SIGKILL to exactly this child (if not reaped yet), then reap it.
    public func kill() {
        guard !reaped else { return }
        _ = Glibc.kill(pid, SIGKILL)
        _ = wait()
    }

    /// Waits for the child; returns a description like "exit 0" or "signal 9".
    @discardableResult
    public func wait() -> String {
        guard !reaped else { return "reaped" }
        let status = Self.waitForChange(pid) ?? 0
        reaped = true
        if status & 0x7f == 0 { return "exit \((status >> 8) & 0xff)" }
        return "signal \(status & 0x7f)"
    }

    /// In the child: one line to the parent's status pipe (fd 3).
    public static func reportStatus(_ line: String) {
        _ = try? FileDescriptor(rawValue: 3).writeAll(Array((line + "\n").utf8))
    }

    /// waitpid(pid, &status, options), retried on EINTR: the status, nil
    /// with the errno of a failed wait (ECHILD: no such child).
    public static func waitForChange(_ pid: pid_t, options: Int32 = 0) -> Int32? {
        var status: Int32 = 0
        while waitpid(pid, &status, options) < 0 {
            if Glibc.errno != EINTR { return nil }
        }
        return status
    }

    /// Forgets the child without killing it (it was told to hold its timers).
    public func release() { reaped = true }
}
