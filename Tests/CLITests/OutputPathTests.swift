import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Every command that writes a file goes through the one writer: devices and
/// FIFOs are written in place, symlinks written through, `-` is stdout, and
/// an interrupted write leaves the old file and no temporary.
final class OutputPathTests: XCTestCase {
    var directory = ""
    let saved = "ID: 3\nsignal: 14/0000000000000000\nnotify: signal/pid.42\nClockID: 1\n"

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tc-outpath-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(saved.utf8).write(to: URL(fileURLWithPath: directory + "/saved.txt"))
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
        super.tearDown()
    }

    func entries() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted() }

    func node(_ path: String) -> stat {
        var info = stat()
        lstat(path, &info)
        return info
    }

    func dump(_ output: String) throws -> CommandResult {
        try runTimerCRIU(["dump", "--from-proc-file", directory + "/saved.txt", "-o", output])
    }

    func testDevNullStaysACharacterDevice() throws {
        let before = node("/dev/null")
        let result = try dump("/dev/null")
        XCTAssertEqual(result.status, 0, result.stderr)
        let after = node("/dev/null")
        XCTAssertEqual(after.st_mode & S_IFMT, S_IFCHR, "/dev/null was replaced")
        XCTAssertEqual(after.st_ino, before.st_ino)
        XCTAssertEqual(after.st_rdev, before.st_rdev)
    }

    func testDevFullFailsWithENOSPCInOneLine() throws {
        guard node("/dev/full").st_mode & S_IFMT == S_IFCHR else { throw XCTSkip("no /dev/full here") }
        let result = try dump("/dev/full")
        XCTAssertEqual(result.status, 73)
        XCTAssertEqual(result.stderrLines, ["timer-criu: cannot write /dev/full: write: ENOSPC: No space left on device"])
        XCTAssertEqual(node("/dev/full").st_mode & S_IFMT, S_IFCHR)
    }

    func testDashIsStandardOutput() throws {
        let result = try dump("-")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdoutText.hasPrefix("{\n  \"format\": \"timer-criu/2\""), result.stdoutText)
        XCTAssertEqual(entries(), ["saved.txt"], "no file named -")
    }

    func testCompareSVGAndCalibrateGoThroughTheSameWriter() throws {
        let checkpoint = directory + "/cp.json"
        XCTAssertEqual(try dump(checkpoint).status, 0)
        try Data("old".utf8).write(to: URL(fileURLWithPath: directory + "/real.svg"))
        XCTAssertEqual(symlink("real.svg", directory + "/link.svg"), 0)
        let svg = try runTimerCRIU(["compare", checkpoint, "--svg", directory + "/link.svg"])
        XCTAssertEqual(svg.status, 0, svg.stderr)
        XCTAssertEqual(node(directory + "/link.svg").st_mode & S_IFMT, S_IFLNK, "the link was replaced")
        let picture = try String(contentsOfFile: directory + "/real.svg", encoding: .utf8)
        XCTAssertTrue(picture.hasPrefix("<svg") || picture.hasPrefix("<?xml"), picture)

        let toStdout = try runTimerCRIU(["compare", checkpoint, "--svg", "-"])
        XCTAssertEqual(toStdout.status, 0, toStdout.stderr)
        XCTAssertTrue(toStdout.stdoutText.contains("<svg"), "the SVG goes to stdout")
        XCTAssertFalse(toStdout.stdoutText.contains("KERNEL"), "and the table does not")

        let dir = try runTimerCRIU(["compare", checkpoint, "--svg", directory])
        XCTAssertEqual(dir.status, 73)
        XCTAssertEqual(dir.stderrLines, ["timer-criu: cannot write \(directory): open: EISDIR: Is a directory"])

        let calibrate = try runTimerCRIU(["calibrate", "--iterations", "10", "--rounds", "1", "-o", "/dev/null"])
        XCTAssertEqual(calibrate.status, 0, calibrate.stderr)
        XCTAssertEqual(node("/dev/null").st_mode & S_IFMT, S_IFCHR)
    }

    func testEmptyOutputPathsAreUsageErrors() throws {
        for arguments in [["dump", "--from-proc-file", directory + "/saved.txt", "-o", ""],
                          ["calibrate", "-o", ""], ["compare", "--sweep", "--svg", ""]] {
            let result = try runTimerCRIU(arguments)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderrLines.first?.contains("not an empty string") == true, result.stderr)
        }
    }

    /// SIGINT or SIGTERM while the temporary file is complete but not yet
    /// renamed (the writer's test hook pauses there): the old file stays as
    /// it was and no temporary is left.
    func testAnInterruptedWriteLeavesTheOldFileAndNoTemporary() throws {
        for signo in [SIGTERM, SIGINT] {
            let target = directory + "/out.json"
            try Data("old contents".utf8).write(to: URL(fileURLWithPath: target))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try BuiltProducts.path("timer-criu"))
            process.arguments = ["dump", "--from-proc-file", directory + "/saved.txt", "-o", target]
            process.environment = ["TIMER_CRIU_TEST_PAUSE_BEFORE_RENAME_MS": "20000"]
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Wait for the temporary to appear: the write is then under way.
            let deadline = Date().addingTimeInterval(20)
            while !entries().contains(where: { $0.hasPrefix(".out.json.tmp-") }) && Date() < deadline {
                usleep(5_000)
            }
            XCTAssertTrue(entries().contains(where: { $0.hasPrefix(".out.json.tmp-") }), "no temporary appeared")
            kill(process.processIdentifier, signo)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationReason, .uncaughtSignal, "signal \(signo)")
            XCTAssertEqual(process.terminationStatus, signo)
            XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "old contents", "signal \(signo)")
            XCTAssertEqual(entries(), ["out.json", "saved.txt"], "signal \(signo): a temporary was left")
        }
    }

    func testATreeIntoASymlinkedEmptyDirectoryIsWrittenThrough() throws {
        // The tree writer uses the same symlink resolution.
        try FileManager.default.createDirectory(atPath: directory + "/real-tree", withIntermediateDirectories: false)
        XCTAssertEqual(symlink("real-tree", directory + "/tree"), 0)
        let result = try runTimerCRIU(["dump", "--tree", "\(getpid())", "-o", directory + "/tree"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(node(directory + "/tree").st_mode & S_IFMT, S_IFLNK)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/real-tree/index.json"))
        XCTAssertEqual(entries(), ["real-tree", "saved.txt", "tree"])
    }

    /// `timer-criu ARGUMENTS` with stdin read from `input`.
    func run(_ arguments: [String], stdin input: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let inputPath = directory + "/stdin-\(UUID().uuidString)"
        let outPath = directory + "/stdout-\(UUID().uuidString)", errPath = directory + "/stderr-\(UUID().uuidString)"
        try Data(input.utf8).write(to: URL(fileURLWithPath: inputPath))
        XCTAssertTrue(FileManager.default.createFile(atPath: outPath, contents: nil))
        XCTAssertTrue(FileManager.default.createFile(atPath: errPath, contents: nil))
        defer { for p in [inputPath, outPath, errPath] { try? FileManager.default.removeItem(atPath: p) } }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try BuiltProducts.path("timer-criu"))
        process.arguments = arguments
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: inputPath))
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, try String(contentsOfFile: outPath, encoding: .utf8),
                try String(contentsOfFile: errPath, encoding: .utf8))
    }

    /// `-` is stdin for every input: --from-proc-file, restore, inspect, compare, --costs.
    func testDashIsStandardInputForEveryInput() throws {
        let converted = try run(["dump", "--from-proc-file", "-"], stdin: saved)
        XCTAssertEqual(converted.status, 0, converted.stderr)
        XCTAssertTrue(converted.stdout.contains("\"pid\": 42"), converted.stdout)
        let checkpoint = converted.stdout

        let restored = try run(["restore", "-"], stdin: checkpoint)
        XCTAssertEqual(restored.status, 0, restored.stderr)
        XCTAssertTrue(restored.stdout.contains("verified:"), restored.stdout)

        let inspected = try run(["inspect", "-"], stdin: checkpoint)
        XCTAssertEqual(inspected.status, 0, inspected.stderr)
        XCTAssertTrue(inspected.stdout.hasPrefix("timer-criu checkpoint stdin: pid 42"), inspected.stdout)

        let compared = try run(["compare", "-"], stdin: checkpoint)
        XCTAssertEqual(compared.status, 0, compared.stderr)
        XCTAssertTrue(compared.stdout.hasPrefix("stdin: 1 timer(s)"), compared.stdout)

        let bad = try run(["restore", "-"], stdin: "garbage")
        XCTAssertEqual(bad.status, 2)
        XCTAssertEqual(bad.stderr, "timer-criu: stdin: not JSON: line 1, column 1: unexpected character \"g\"\n")

        let costs = try run(["compare", "--costs", "-", directory + "/saved.txt"], stdin: "")
        XCTAssertEqual(costs.status, 2)
        XCTAssertTrue(costs.stderr.hasPrefix("timer-criu: stdin: "), costs.stderr)
    }
}
