import ArgumentParser
import HostKernel
@testable import TimerCRIUCommands
import XCTest

/// `dump` parsed in process: arguments, pid text, exit code per error.
final class DumpCommandTests: XCTestCase {
    func testParsesPIDAndOutput() throws {
        let command = try Dump.parse(["123", "-o", "cp.json"])
        XCTAssertEqual(command.pid, "123")
        XCTAssertEqual(command.output, "cp.json")
        XCTAssertNil(try Dump.parse(["7"]).output)
        XCTAssertEqual(try Dump.parse(["7", "--output", "x"]).output, "x")
    }

    func testPIDText() {
        XCTAssertEqual(Dump.parsePID("1"), 1)
        XCTAssertEqual(Dump.parsePID("2147483647"), 2147483647)
        for bad in ["0", "-1", "+1", "1.0", "0x1", "2147483648", "", " 1", "1 ", "abc"] {
            XCTAssertNil(Dump.parsePID(bad), bad)
        }
    }

    func testExitCodes() {
        XCTAssertEqual(Dump.exitCode(for: .noSuchProcess(pid: 1)), TimerCRIUExit.noSuchProcess)
        XCTAssertEqual(Dump.exitCode(for: .exited(pid: 1)), TimerCRIUExit.noSuchProcess)
        XCTAssertEqual(Dump.exitCode(for: .exitedWhileRead(pid: 1)), TimerCRIUExit.noSuchProcess)
        XCTAssertEqual(Dump.exitCode(for: .notAProcess(pid: 2, threadGroup: 1)), TimerCRIUExit.noSuchProcess)
        XCTAssertEqual(Dump.exitCode(for: .permissionDenied(path: "p", errno: .EACCES)), TimerCRIUExit.permissionDenied)
        XCTAssertEqual(Dump.exitCode(for: .noTimersFile(path: "p")), TimerCRIUExit.kernelUnsupported)
        XCTAssertEqual(TimerCRIUExit.noSuchProcess, 3)
        XCTAssertEqual(TimerCRIUExit.permissionDenied, 4)
        XCTAssertEqual(TimerCRIUExit.kernelUnsupported, 5)
        XCTAssertEqual(TimerCRIUExit.cannotWriteOutput, 73)
    }
}
