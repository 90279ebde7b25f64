import Foundation
import TestSupport
import TimerCore
import TimerFormats
import TimerComparison
import XCTest

/// `timer-criu check` as a user runs it: one line per feature, a verdict,
/// the exit code, and `--json` agreeing with the text.
final class CheckCommandTests: XCTestCase {
    static let names = ["proc-timers", "create-at-id", "ptrace", "sigpending",
                        "cap-checkpoint-restore", "cap-wake-alarm", "alarm-clocks"]

    /// The text and the JSON say the same of every feature, and the verdict
    /// follows from facts this test checks itself: /proc/self/timers is
    /// readable here, so proc-timers is ok; exit 0 exactly when proc-timers
    /// and sigpending (dump and restore's requirements) are ok.
    func testHumanOutputOneLinePerFeatureAgreesWithJSON() throws {
        let result = try runTimerCRIU(["check"])
        let json = try JSONValue.parse(Array(try runTimerCRIU(["check", "--json"]).stdout))
        guard case let .array(features)? = json["features"], case let .array(missing)? = json["missing"],
              case let .array(absent)? = json["absent"] else { return XCTFail("no features/missing/absent in the JSON") }
        let lines = result.stdoutText.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.first?.hasPrefix("timer-criu check: host kernel ") == true, result.stdoutText)
        var textMissing: [String] = [], textAbsent: [String] = []
        for name in Self.names {
            let matching = lines.filter { $0.hasPrefix(name + " ") }
            XCTAssertEqual(matching.count, 1, "\(name) in:\n\(result.stdoutText)")
            let word = matching.first?.split(separator: " ").dropFirst().first.map(String.init) ?? ""
            let feature = features.first { $0["name"] == .string(name) }
            let expected = feature?["ok"] == .bool(true) ? "ok" : (feature?["required"] == .bool(true) ? "MISSING" : "absent")
            XCTAssertEqual(word, expected, matching.first ?? name)
            if word == "MISSING" { textMissing.append(name) }
            if word == "absent" { textAbsent.append(name) }
        }
        XCTAssertEqual(missing, textMissing.map { .string($0) }, "JSON missing = the text's MISSING lines")
        XCTAssertEqual(absent, textAbsent.map { .string($0) }, "JSON absent = the text's absent lines")
        let procTimers = FileManager.default.isReadableFile(atPath: "/proc/self/timers")
        XCTAssertEqual(lines.first { $0.hasPrefix("proc-timers ") }?.split(separator: " ").dropFirst().first,
                       procTimers ? "ok" : "MISSING")
        let sigpendingOK = features.first { $0["name"] == .string("sigpending") }?["ok"] == .bool(true)
        XCTAssertEqual(result.status, procTimers && sigpendingOK ? 0 : 1, result.stdoutText)
        let ptraceOK = lines.first { $0.hasPrefix("ptrace ") }?.contains(" ok ") == true
        switch (result.status, ptraceOK) {
        case (0, true): XCTAssertEqual(lines.last, "Looks good: dump and restore both work here.")
        case (0, false): XCTAssertTrue(lines.last?.hasPrefix("Dump and restore work here; dump --values does not: ") == true)
        default: XCTAssertTrue(lines.last?.hasPrefix("Missing: ") == true, result.stdoutText)
        }
    }

    func testJSONAgreesWithExitCode() throws {
        let result = try runTimerCRIU(["check", "--json"])
        let json = try JSONValue.parse(Array(result.stdout))
        XCTAssertEqual(json["ok"], .bool(result.status == 0), result.stdoutText)
        guard case let .array(features)? = json["features"], case let .array(missing)? = json["missing"] else {
            return XCTFail("no features/missing arrays: \(result.stdoutText)")
        }
        XCTAssertEqual(features.compactMap { if case let .string(s)? = $0["name"] { return s }; return nil }, Self.names)
        let missingRequired = features.filter { $0["required"] == .bool(true) && $0["ok"] == .bool(false) }
        XCTAssertEqual(missing.count, missingRequired.count)
        // Exit 0 when dump and restore work; ptrace (dump --values) alone does not decide it.
        XCTAssertEqual(result.status == 0, json["dump"] == .bool(true) && json["restore"] == .bool(true))
        for key in ["kernel", "dump", "dump_values", "restore", "restore_strategy"] {
            XCTAssertNotNil(json[key], key)
        }
        // The kernel's own answer for create-at-id decides what auto restores with.
        let createAtID = features.first { $0["name"] == .string("create-at-id") }
        XCTAssertEqual(json["restore_strategy"], .string(createAtID?["ok"] == .bool(true) ? "create-at-id" : "dance"))
        // The live sigpending numbers are there for scripts.
        let sigpending = features.first { $0["name"] == .string("sigpending") }
        XCTAssertNotNil(sigpending?["values"]?["limit"]?.integer)
    }

    /// The probes' children are reaped and killed by pid: none is left. The
    /// test process is a child subreaper, so a probe child that outlived
    /// `check` would be re-parented to it (not to init) and seen here.
    func testCheckLeavesNoProcessBehind() throws {
        try LeakedProcesses.becomeSubreaper()
        let before = LeakedProcesses.liveChildren()
        let result = try runTimerCRIU(["check"])
        XCTAssertTrue(result.stdoutText.contains("ptrace "), result.stdoutText)  // the probes ran
        let leaked = LeakedProcesses.leakedSince(before)
        XCTAssertEqual(leaked, [], "check left processes: \(leaked.map(LeakedProcesses.commandLine))")
        for pid in leaked { kill(pid, SIGKILL) }
    }
}
