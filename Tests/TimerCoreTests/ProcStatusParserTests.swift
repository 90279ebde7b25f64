import Foundation
import TestSupport
import XCTest
@testable import TimerCore

/// The /proc/PID/status and /proc/PID/stat parsers on text alone, with real
/// files of Linux 6.18 (Tests/Fixtures/proc: a `sleep` and kthreadd, pid 2)
/// and of the running test process.
final class ProcStatusParserTests: XCTestCase {
    func fixture(_ name: String) throws -> [UInt8] {
        let path = BuiltProducts.repositoryRoot + "/Tests/Fixtures/proc/" + name
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func assertRefused(_ parse: () throws -> Void, line expectedLine: Int, containing fragment: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        do {
            try parse()
            XCTFail("accepted", file: file, line: line)
        } catch let error as ProcTimersParseError {
            XCTAssertEqual(error.line, expectedLine, "\(error)", file: file, line: line)
            XCTAssertTrue(error.description.contains(fragment), "\(error) lacks \(fragment)", file: file, line: line)
            XCTAssertFalse(error.description.contains("\n"), "one line: \(error)", file: file, line: line)
        } catch {
            XCTFail("not a ProcTimersParseError: \(error)", file: file, line: line)
        }
    }

    func testTheStatusOfASleepProcess() throws {
        let status = try ProcStatus(try fixture("sleep-status.txt"))
        XCTAssertEqual(status["Name"], "sleep")
        XCTAssertEqual(status.state, "S")
        XCTAssertFalse(status.hasExited)
        XCTAssertEqual(status.processID, 19992)
        XCTAssertEqual(status.threadGroup, 19992)
        XCTAssertEqual(status.parentProcessID, 19989)
        XCTAssertEqual(status.tracerPID, 0)
        XCTAssertEqual(status.userIDs, [0, 0, 0, 0])
        XCTAssertEqual(status.namespacePIDs, [19992])
        XCTAssertEqual(status.isKernelThread, false)
        XCTAssertEqual(status.signalQueue?.queued, 23)  // the timers of other test runs
        XCTAssertEqual(status.signalQueue?.limit, 96549)
        XCTAssertEqual(status.effectiveCapabilities, 0x000001fffeffffff)
        XCTAssertEqual(status.permittedCapabilities, 0x000001fffeffffff)
        XCTAssertEqual(status.seccompMode, 0)
        XCTAssertEqual(status.seccompFilters, 0)
        XCTAssertNil(status.threadFeatures)
        XCTAssertNotNil(status.peakResidentKiB)
        XCTAssertEqual(status.fields.count, 59)
        XCTAssertEqual(status["Groups"], "")
        XCTAssertNil(status["Missing"])
    }

    func testTheStatusOfAKernelThread() throws {
        let status = try ProcStatus(try fixture("kthreadd-status.txt"))
        XCTAssertEqual(status["Name"], "kthreadd")
        XCTAssertEqual(status.isKernelThread, true)
        XCTAssertNil(status.peakResidentKiB)  // no memory lines
        let stat = try ProcStat(try fixture("kthreadd-stat.txt"))
        XCTAssertTrue(stat.isKernelThread)
        XCTAssertEqual(stat.processID, 2)
        XCTAssertEqual(stat.parentProcessID, 0)
    }

    func testTheStatOfASleepProcess() throws {
        let stat = try ProcStat(try fixture("sleep-stat.txt"))
        XCTAssertEqual(stat.processID, 19992)
        XCTAssertEqual(stat.command, "sleep")
        XCTAssertEqual(stat.state, "S")
        XCTAssertEqual(stat.parentProcessID, 19989)
        XCTAssertFalse(stat.isKernelThread)
        XCTAssertEqual(stat.threadCount, 1)
        XCTAssertEqual(stat.numbers.count, 52 - 3)
        // rsslim, unlimited: the unsigned 64-bit value as its bit pattern.
        XCTAssertEqual(UInt64(bitPattern: stat.numbers[25 - 4]), UInt64.max)
        XCTAssertEqual(stat.numbers[8 - 4], -1)  // tpgid without a terminal
    }

    /// What this test process's own files say, read now.
    func testTheRunningProcess() throws {
        let status = try ProcStatus(Array(try Data(contentsOf: URL(fileURLWithPath: "/proc/self/status"))))
        XCTAssertEqual(status.threadGroup, getpid())
        XCTAssertEqual(status.state, "R")
        let stat = try ProcStat(Array(try Data(contentsOf: URL(fileURLWithPath: "/proc/self/stat"))))
        XCTAssertEqual(stat.processID, getpid())
        XCTAssertEqual(stat.parentProcessID, getppid())
    }

    /// The command name is everything up to the last ")": it may hold
    /// spaces, parentheses and a state-like letter.
    func testACommandNameWithSpacesAndParentheses() throws {
        let tail = Array(repeating: "0", count: 19).joined(separator: " ")
        let stat = try ProcStat("42 (a) R (b c) Z 7 \(tail)\n")
        XCTAssertEqual(stat.command, "a) R (b c")
        XCTAssertEqual(stat.state, "Z")
        XCTAssertEqual(stat.parentProcessID, 7)
    }

    /// stat prints the command name unescaped: a newline in it (set with
    /// prctl(PR_SET_NAME)) is still one stat line.
    func testACommandNameWithANewline() throws {
        let tail = Array(repeating: "0", count: 19).joined(separator: " ")
        let stat = try ProcStat("42 (a\nb) S 7 \(tail)\n")
        XCTAssertEqual(stat.command, "a\nb")
        XCTAssertEqual(try ProcStat(stat.text), stat)
    }

    func testBadStatusTextNamesTheLine() {
        assertRefused({ _ = try ProcStatus("Name:\tx\nTgid:\t12") }, line: 2, containing: "no newline")
        assertRefused({ _ = try ProcStatus("") }, line: 1, containing: "empty")
        assertRefused({ _ = try ProcStatus("Name:\tx\nno colon here\n") }, line: 2, containing: "not a \"Name:\\tvalue\" field")
        assertRefused({ _ = try ProcStatus("Name:\tx\nTgid:\t1\nTgid:\t2\n") }, line: 3, containing: "Tgid appears twice")
        assertRefused({ _ = try ProcStatus("Tgid:\t-4\n") }, line: 1, containing: "Tgid: \"-4\" is not a process id")
        assertRefused({ _ = try ProcStatus("Pid:\t4294967296\n") }, line: 1, containing: "not a process id")
        assertRefused({ _ = try ProcStatus("State:\tQ (queued)\n") }, line: 1, containing: "State: expected a state letter")
        assertRefused({ _ = try ProcStatus("CapEff:\t1ff\n") }, line: 1, containing: "CapEff: expected 16 hex digits")
        assertRefused({ _ = try ProcStatus("SigQ:\t3\n") }, line: 1, containing: "SigQ: expected QUEUED/LIMIT")
        assertRefused({ _ = try ProcStatus("Uid:\t0\t0\n") }, line: 1, containing: "expected four uids")
        assertRefused({ _ = try ProcStatus("Kthread:\tyes\n") }, line: 1, containing: "expected 0 or 1")
        assertRefused({ _ = try ProcStatus("NSpid:\t\n") }, line: 1, containing: "NSpid: no pid")
        assertRefused({ _ = try ProcStatus("Bad name:\t1\n") }, line: 1, containing: "not a field name")
        // A control character is echoed escaped, in one line.
        assertRefused({ _ = try ProcStatus("Tgid:\t1\u{1b}[2J\n") }, line: 1, containing: "\\e[2J")
    }

    func testBadStatTextNamesTheField() {
        let tail = Array(repeating: "0", count: 19).joined(separator: " ")
        assertRefused({ _ = try ProcStat("42 (a) S 1 \(tail)") }, line: 1, containing: "no newline")
        assertRefused({ _ = try ProcStat("42 (a) S 1 \(tail)\n\n") }, line: 2, containing: "expected one line")
        assertRefused({ _ = try ProcStat("") }, line: 1, containing: "empty")
        assertRefused({ _ = try ProcStat("42 a S 1 \(tail)\n") }, line: 1, containing: "no \"(COMM)\" field")
        assertRefused({ _ = try ProcStat("x (a) S 1 \(tail)\n") }, line: 1, containing: "field 1 is not a process id")
        assertRefused({ _ = try ProcStat("42 (a) Q 1 \(tail)\n") }, line: 1, containing: "field 3 is not a state letter")
        assertRefused({ _ = try ProcStat("42 (a) S one \(tail)\n") }, line: 1, containing: "field 4 is not a decimal number")
        assertRefused({ _ = try ProcStat("42 (a) S 1  \(tail)\n") }, line: 1, containing: "field 5 is not a decimal number")
        assertRefused({ _ = try ProcStat("42 (a) S 1 0 0\n") }, line: 1, containing: "6 fields, fewer than the 22")
        assertRefused({ _ = try ProcStat("42 (a)S 1 \(tail)\n") }, line: 1, containing: "no space after the command name")
    }
}
