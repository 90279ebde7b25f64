import Foundation
import TestSupport
import TimerCRIUCommands
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// One exit-code table, true everywhere: the code's table (TimerCRIUExit.table)
/// is the README's, `timer-criu --help` prints it, every subcommand's help and
/// docs/restore.md name only its codes, and the codes are what the binary
/// returns.
final class ExitCodeTableTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    func read(_ relative: String) throws -> String {
        try String(contentsOf: Self.repository.appendingPathComponent(relative), encoding: .utf8)
    }

    /// `| code | meaning |` rows after `heading`.
    func tableRows(_ text: String, after heading: String) -> [(Int32, String)] {
        guard let start = text.range(of: heading) else { return [] }
        var rows: [(Int32, String)] = []
        var inTable = false
        for line in text[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("|") {
                inTable = true
                let cells = line.replacingOccurrences(of: "\\|", with: "\u{1}").split(separator: "|")
                    .map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "\u{1}", with: "|") }
                if cells.count == 2, let code = Int32(cells[0]) { rows.append((code, cells[1])) }
            } else if inTable {
                break
            }
        }
        return rows
    }

    func testTheREADMETableIsTheCodesTable() throws {
        let rows = tableRows(try read("README.md"), after: "## Exit codes")
        XCTAssertEqual(rows.map(\.0), TimerCRIUExit.table.map(\.code))
        for (row, entry) in zip(rows, TimerCRIUExit.table) {
            XCTAssertEqual(row.1, entry.meaning, "README exit code \(row.0)")
        }
    }

    func testDocsRestoreNamesOnlyTheTablesCodes() throws {
        let rows = tableRows(try read("docs/restore.md"), after: "### Exit codes")
        XCTAssertFalse(rows.isEmpty)
        let known = Set(TimerCRIUExit.table.map(\.code))
        for (code, meaning) in rows { XCTAssertTrue(known.contains(code), "docs/restore.md: \(code) \(meaning)") }
        // The dead notify thread with --dead-thread-notify fail is a refusal: 2, in both.
        XCTAssertTrue(rows.first { $0.0 == 2 }?.1.contains("--dead-thread-notify fail") == true)
        XCTAssertTrue(TimerCRIUExit.table.first { $0.code == 2 }?.meaning.contains("--dead-thread-notify fail") == true)
    }

    func squeezed(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
    }

    func testRootHelpPrintsTheTableAndEverySubcommandNamesOnlyItsCodes() throws {
        let root = try runTimerCRIU(["--help"])
        XCTAssertEqual(root.status, 0)
        for entry in TimerCRIUExit.table {
            XCTAssertTrue(squeezed(root.stdoutText).contains(squeezed("\(entry.code): \(entry.meaning)")),
                          "timer-criu --help lacks exit code \(entry.code)")
        }
        let known = Set(TimerCRIUExit.table.map(\.code))
        for command in ["dump", "inspect", "restore", "compare", "calibrate", "check", "simulate", "memory"] {
            let help = try runTimerCRIU([command, "--help"])
            XCTAssertEqual(help.status, 0, command)
            let text = squeezed(help.stdoutText)
            guard let start = text.range(of: "Exit codes: "), let end = text.range(of: " USAGE: ") else {
                XCTFail("\(command) --help names no exit codes"); continue
            }
            let codes = text[start.upperBound..<end.lowerBound]
                .split(whereSeparator: { $0 == " " || $0 == "," || $0 == ";" })
                .filter { $0.allSatisfy(\.isNumber) && !$0.isEmpty && $0.count <= 3 }
                .compactMap { Int32($0) }
            XCTAssertFalse(codes.isEmpty, command)
            for code in codes where code < 200 {
                XCTAssertTrue(known.contains(code), "\(command) --help names exit code \(code), not in the table")
            }
        }
        // dump's 3 names every cause the table names.
        let dump = squeezed(try runTimerCRIU(["dump", "--help"]).stdoutText)
        XCTAssertTrue(dump.contains("3 no such process, it exited while being read, the pid is a thread or a kernel thread, or its timers kept changing"), dump)
        // restore's 2 includes the dead notify thread.
        let restore = squeezed(try runTimerCRIU(["restore", "--help"]).stdoutText)
        XCTAssertTrue(restore.contains("--dead-thread-notify fail"), restore)
    }

    func testNoSubcommandAndAnUnknownHelpTopicAreUsageErrors() throws {
        let bare = try runTimerCRIU([])
        XCTAssertEqual(bare.status, 64)
        XCTAssertEqual(bare.stderrLines.first, "Error: missing a subcommand (`timer-criu --help` lists them)")
        let bogus = try runTimerCRIU(["help", "bogus"])
        XCTAssertEqual(bogus.status, 64)
        XCTAssertEqual(bogus.stderrLines.first, "Error: unknown subcommand 'bogus' (`timer-criu --help` lists them)")
        let known = try runTimerCRIU(["help", "dump"])
        XCTAssertEqual(known.status, 0)
        XCTAssertTrue(known.stdoutText.contains("USAGE: timer-criu dump <pid>"))
    }

    /// A closed stdout: exit 141 quietly, the table's meaning.
    func testAClosedPipeEndsQuietlyWith141() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        close(fds[0])  // the reader is gone before the first write
        let saved = FileManager.default.temporaryDirectory.appendingPathComponent("tc-pipe-\(UUID().uuidString)").path
        try Data("ID: 1\nsignal: 14/0000000000000000\nnotify: signal/pid.42\nClockID: 1\n".utf8)
            .write(to: URL(fileURLWithPath: saved))
        defer { try? FileManager.default.removeItem(atPath: saved) }
        let errPath = saved + ".err"
        XCTAssertTrue(FileManager.default.createFile(atPath: errPath, contents: nil))
        defer { try? FileManager.default.removeItem(atPath: errPath) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try BuiltProducts.path("timer-criu"))
        process.arguments = ["dump", "--from-proc-file", saved]
        process.standardOutput = FileHandle(fileDescriptor: fds[1], closeOnDealloc: false)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try process.run()
        close(fds[1])
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit)
        XCTAssertEqual(process.terminationStatus, TimerCRIUExit.closedPipe)
        XCTAssertEqual(try String(contentsOfFile: errPath, encoding: .utf8), "", "quiet")
    }

    /// The value lists are printed once (by ArgumentParser), placeholders are lower case.
    func testHelpListsValuesOnceInOneStyle() throws {
        let restore = try runTimerCRIU(["restore", "--help"]).stdoutText
        XCTAssertEqual(restore.components(separatedBy: "rfd-dense").count - 1, 1, restore)
        XCTAssertEqual(restore.components(separatedBy: "create-at-id").count - 1, 1, restore)
        XCTAssertTrue(restore.contains("--kernel <kernel>       A model kernel profile (see `timer-criu kernels`) or\n"), restore)
        let compare = try runTimerCRIU(["compare", "--help"]).stdoutText
        XCTAssertEqual(compare.components(separatedBy: "create-at-id").count - 1, 2, compare)  // the help text and "values:"
        for command in ["dump", "restore", "compare", "calibrate", "memory", "inspect", "check", "simulate", "criu"] {
            let help = try runTimerCRIU([command, "--help"]).stdoutText
            let placeholders = help.split(separator: "<").dropFirst().compactMap { $0.split(separator: ">").first }
            for placeholder in placeholders where placeholder != placeholder.lowercased() {
                XCTFail("\(command) --help: placeholder <\(placeholder)> is not lower case")
            }
        }
        let root = try runTimerCRIU(["--help"]).stdoutText
        let order = ["dump", "inspect", "restore", "criu", "compare", "calibrate", "memory", "check", "kernels", "simulate"]
        let positions = order.compactMap { root.range(of: "\n  \($0) ")?.lowerBound }
        XCTAssertEqual(positions.count, order.count, root)
        XCTAssertEqual(positions, positions.sorted(), "subcommands in the order of the work")
    }
}
