import Foundation
import TestSupport
import XCTest
@testable import TimerCore
@testable import TimerFormats
@testable import TimerComparison

/// The timerfd fdinfo parser on text alone (docs/kernel-facts.md section 8),
/// with the real texts of Tests/Fixtures/fdinfo (Linux 6.18, from the
/// timers-case8 CRIU fixture's process).
final class TimerFDInfoParserTests: XCTestCase {
    func fixture(_ name: String) throws -> [UInt8] {
        let path = BuiltProducts.repositoryRoot + "/Tests/Fixtures/fdinfo/" + name
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func assertRefused(_ text: String, line expectedLine: Int, containing fragment: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        do {
            let info = try TimerFDInfoParser.parse(text)
            XCTFail("accepted: \(info)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.line, expectedLine, "\(error)", file: file, line: line)
            XCTAssertTrue(error.problem.contains(fragment), "\(error) lacks \(fragment)", file: file, line: line)
        }
    }

    static let header = "pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t1039\n"
    static let timerLines = "clockid: 1\nticks: 0\nsettime flags: 00\nit_value: (0, 0)\nit_interval: (0, 0)\n"

    func testTheRealFilesOfLinux618() throws {
        let fd30 = try TimerFDInfoParser.parse(try fixture("case8-fd30.txt"))
        XCTAssertEqual(fd30, TimerFDInfo(fileFlags: 0o4002, mountID: 17, inode: 1039, clockID: .monotonic, ticks: 0,
                                         settimeFlags: 0, valueNanoseconds: 39_673_568_182, intervalNanoseconds: 0))
        let fd5 = try TimerFDInfoParser.parse(try fixture("case8-fd5.txt"))
        XCTAssertEqual(fd5.clockID, .realtime)
        XCTAssertEqual(fd5.valueNanoseconds, 59_676_489_822)
        XCTAssertEqual(fd5.intervalNanoseconds, 2_000_000_000)
        let fd9 = try TimerFDInfoParser.parse(try fixture("case8-fd9.txt"))
        XCTAssertEqual(fd9.clockID, .boottime)
        XCTAssertEqual(fd9.settimeFlags, 1)
        XCTAssertEqual(fd9.valueNanoseconds, 499_675_214_082)
        // Byte for byte back, as the model renders its own fdinfo.
        for name in ["case8-fd5.txt", "case8-fd9.txt", "case8-fd30.txt"] {
            let bytes = try fixture(name)
            XCTAssertEqual(TimerFDInfoRenderer.render(try TimerFDInfoParser.parse(bytes)), bytes, name)
        }
    }

    func testTheCheckpointFieldsDropOnlyTheAccessMode() throws {
        let info = try TimerFDInfoParser.parse("pos:\t0\nflags:\t02004002\nmnt_id:\t15\n" + Self.timerLines)
        let timerFD = CheckpointTimerFD(fd: 7, info: info)
        XCTAssertEqual(timerFD.flagsHex, "0x80800")
        XCTAssertEqual(timerFD.createFlags, 0x80800)
    }

    func testKernelsBefore514HaveNoIno() throws {
        let info = try TimerFDInfoParser.parse("pos:\t0\nflags:\t02\nmnt_id:\t11\n" + Self.timerLines)
        XCTAssertNil(info.inode)
    }

    func testLockLinesBeforeTheTimerLines() throws {
        let text = Self.header + "lock:\t1: FLOCK  ADVISORY  WRITE 4242 00:0e:1039 0 EOF\n" + Self.timerLines
        let info = try TimerFDInfoParser.parse(text)
        XCTAssertEqual(info.locks, ["1: FLOCK  ADVISORY  WRITE 4242 00:0e:1039 0 EOF"])
        XCTAssertEqual(TimerFDInfoRenderer.render(info), Array(text.utf8))
    }

    func testCancelOnSetAndLargeTicks() throws {
        let text = Self.header + "clockid: 0\nticks: 18446744073709551615\nsettime flags: 03\n"
            + "it_value: (9223372036, 854775807)\nit_interval: (0, 1)\n"
        let info = try TimerFDInfoParser.parse(text)
        XCTAssertEqual(info.ticks, .max)
        XCTAssertEqual(info.settimeFlags, 3)
        XCTAssertEqual(info.valueNanoseconds, .max)
        XCTAssertEqual(info.intervalNanoseconds, 1)
    }

    func testRefusals() {
        assertRefused("", line: 1, containing: "truncated")
        assertRefused("pos:\t0\nflags:\t02\nmnt_id:\t17\n", line: 4, containing: "clockid")
        // An eventfd's fdinfo.
        assertRefused(Self.header + "eventfd-count:                0\n", line: 5, containing: "expected \"clockid: \"")
        assertRefused("pos:\t0\nflags:\t2\nmnt_id:\t17\n" + Self.timerLines, line: 2, containing: "octal with a leading 0")
        assertRefused("pos:\t0\nflags:\t08\nmnt_id:\t17\n" + Self.timerLines, line: 2, containing: "unexpected \"8\"")
        assertRefused(Self.header + "clockid: 1\nticks: 18446744073709551616\n", line: 6, containing: "past 18446744073709551615")
        assertRefused(Self.header + "clockid: 1\nticks: -1\n", line: 6, containing: "expected the tick count")
        assertRefused(Self.header + "clockid: 1\nticks: 0\nsettime flags: 04\n", line: 7, containing: "bits other than")
        assertRefused(Self.header + "clockid: 1\nticks: 0\nsettime flags: 00\nit_value: (1, 1000000000)\n", line: 8,
                      containing: "nanoseconds 1000000000 is outside")
        assertRefused(Self.header + "clockid: 1\nticks: 0\nsettime flags: 00\nit_value: (9223372037, 0)\n", line: 8,
                      containing: "seconds 9223372037 is outside")
        assertRefused(Self.header + "clockid: 1\nticks: 0\nsettime flags: 00\nit_value: (9223372036, 854775808)\n",
                      line: 8, containing: "past the int64 nanosecond range")
        assertRefused(Self.header + "clockid: 1\nticks: 0\nsettime flags: 00\nit_value: (1,2)\n", line: 8,
                      containing: "expected \" \"")
        assertRefused(Self.header + Self.timerLines + "extra: 1\n", line: 10, containing: "unexpected text after it_interval")
        assertRefused(String((Self.header + Self.timerLines).dropLast()), line: 9, containing: "no newline")
    }
}
