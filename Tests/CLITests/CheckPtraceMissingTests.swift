import Foundation
import TestSupport
import TimerCore
import TimerFormats
import TimerComparison
import XCTest

/// `check` when only ptrace is missing: dump and restore still work, so the
/// exit is 0 and the verdict says what does not (dump --values). Under
/// `strace -f` the probe's child is already traced by strace, and the line
/// must name that (TracerPid), not seccomp or yama.
final class CheckPtraceMissingTests: XCTestCase {
    func underStrace(_ arguments: [String]) throws -> CommandResult {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/strace") else {
            throw XCTSkip("no /usr/bin/strace to hold the probe's child")
        }
        let result = try runCommand("/usr/bin/strace", ["-f", "-o", "/dev/null", try BuiltProducts.path("timer-criu")] + arguments)
        if result.stderr.contains("PTRACE_TRACEME") || result.stderr.contains("strace: ") {
            throw XCTSkip("strace cannot trace here: \(result.stderr)")
        }
        return result
    }

    func testTextExitsZeroAndNamesTheTracer() throws {
        let result = try underStrace(["check"])
        XCTAssertEqual(result.status, 0, result.stdoutText + result.stderr)
        let lines = result.stdoutText.split(separator: "\n").map(String.init)
        let ptrace = try XCTUnwrap(lines.first { $0.hasPrefix("ptrace ") }, result.stdoutText)
        XCTAssertTrue(ptrace.contains("MISSING"), ptrace)
        XCTAssertTrue(ptrace.contains("EPERM: the child is already traced by pid "), ptrace)
        XCTAssertTrue(ptrace.contains("(strace)"), ptrace)
        XCTAssertFalse(ptrace.contains("seccomp"), ptrace)
        XCTAssertTrue(lines.contains("dump: works; dump --values: does not work; restore --kernel host: works (auto uses "
                                         + (lines.first { $0.hasPrefix("create-at-id ") && $0.contains(" ok ") } != nil
                                            ? "create-at-id)" : "dance)")), result.stdoutText)
        XCTAssertTrue(lines.last?.hasPrefix("Dump and restore work here; dump --values does not: ptrace (PTRACE_SEIZE") == true,
                      result.stdoutText)
    }

    func testJSONSaysOKWithPtraceMissing() throws {
        let result = try underStrace(["check", "--json"])
        XCTAssertEqual(result.status, 0, result.stdoutText + result.stderr)
        let json = try JSONValue.parse(Array(result.stdout))
        XCTAssertEqual(json["ok"], .bool(true))
        XCTAssertEqual(json["dump"], .bool(true))
        XCTAssertEqual(json["restore"], .bool(true))
        XCTAssertEqual(json["dump_values"], .bool(false))
        XCTAssertEqual(json["missing"], .array([.string("ptrace")]))
    }
}
