import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A running `timer-fixture`: started with timer specs, ready once it printed
/// `ready <pid>`. `stop()` (or deinit) kills exactly this pid and reaps it.
public final class FixtureProcess {
    public let process: Process
    public var pid: Int32 { process.processIdentifier }
    /// Extra threads it started (`thread TID` lines), in order.
    public private(set) var threads: [Int32] = []
    /// Threads that ended after their timer was created (`exited-thread TID`).
    public private(set) var exitedThreads: [Int32] = []
    /// The child of `--fork` (`child PID`); it dies with the fixture.
    public private(set) var child: Int32?
    /// IDs of the timers it created (`timer ID` lines), in creation order.
    public private(set) var timerIDs: [Int32] = []
    private var stopped = false
    private let stderrURL: URL

    /// Starts the fixture and waits (at most `timeout` seconds) for `ready`.
    /// Throws with the fixture's stderr if it exits first.
    public init(_ arguments: [String], timeout: Double = 20) throws {
        let path = try BuiltProducts.path("timer-fixture")
        process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let pipe = Pipe()
        process.standardOutput = pipe
        stderrURL = FileManager.default.temporaryDirectory.appendingPathComponent("tc-fixture-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()

        let fd = pipe.fileHandleForReading.fileDescriptor
        let deadline = Date().addingTimeInterval(timeout)
        var buffer: [UInt8] = []
        var ready = false
        while !ready {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
            if left == 0 { break }
            if poll(&poller, 1, left) <= 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }  // EOF: the fixture exited
            buffer += chunk[0..<n]
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                let parts = line.split(separator: " ")
                guard parts.count == 2, let n = Int32(parts[1]) else { continue }
                switch parts[0] {
                case "thread": threads.append(n)
                case "exited-thread": exitedThreads.append(n)
                case "timer": timerIDs.append(n)
                case "child": child = n
                case "ready":
                    guard n == process.processIdentifier else { throw TestSupportError("fixture said ready \(n)") }
                    ready = true
                default: break
                }
            }
        }
        if !ready {
            stop()
            let stderr = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
            throw TestSupportError("timer-fixture \(arguments.joined(separator: " ")) did not get ready: \(stderr)")
        }
    }

    /// The fixture's stderr so far.
    public var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// SIGKILL to this pid only, then reap it.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: stderrURL)
    }

    deinit { stop() }
}
