import Foundation

/// The executables `swift build` / `swift test` put next to the test bundle
/// (timer-criu, timer-fixture), and a way to run them as a user would.
public enum BuiltProducts {
    /// `$TIMER_CRIU_BUILD_DIR` if set, else the directory of the running test
    /// binary (.build/debug), where SwiftPM puts the package's executables.
    public static var directory: String {
        if let dir = ProcessInfo.processInfo.environment["TIMER_CRIU_BUILD_DIR"], !dir.isEmpty { return dir }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }

    /// The path of a built executable; throws a skip-worthy error if missing.
    public static func path(_ name: String) throws -> String {
        let path = directory + "/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestSupportError("\(path) is not built (run `swift build` first)")
        }
        return path
    }

    /// The repository's top directory (for docs/ and Scripts/).
    public static var repositoryRoot: String {
        var url = URL(fileURLWithPath: #filePath)  // Tests/TestSupport/BuiltProducts.swift
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// What a finished command did.
public struct CommandResult {
    public var status: Int32
    public var stdout: Data
    public var stderr: String
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    /// stderr's lines, without the empty last one.
    public var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }
}

/// Runs an executable to completion with stdin from /dev/null and stdout and
/// stderr captured through temporary files (no pipe can fill up and block).
/// With `timeout`, a command still running after that many seconds is killed
/// (SIGKILL) and the call throws: a hang fails the test instead of stopping it.
public func runCommand(_ path: String, _ arguments: [String], environment: [String: String]? = nil,
                       timeout: Double? = nil) throws -> CommandResult
{
    let dir = FileManager.default.temporaryDirectory
    let outURL = dir.appendingPathComponent("tc-out-\(UUID().uuidString)")
    let errURL = dir.appendingPathComponent("tc-err-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer {
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let environment { process.environment = environment }
    process.standardInput = FileHandle.nullDevice
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    process.standardOutput = out
    process.standardError = err
    let exited = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in exited.signal() }
    try process.run()
    if let timeout, exited.wait(timeout: .now() + timeout) == .timedOut {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        throw TestSupportError("\(path) \(arguments.joined(separator: " ")): still running after \(timeout) s (killed)")
    }
    process.waitUntilExit()
    try out.close()
    try err.close()
    return CommandResult(status: process.terminationStatus,
                         stdout: try Data(contentsOf: outURL),
                         stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
}

/// Runs the built `timer-criu` with `arguments`.
public func runTimerCRIU(_ arguments: [String]) throws -> CommandResult {
    try runCommand(try BuiltProducts.path("timer-criu"), arguments)
}
