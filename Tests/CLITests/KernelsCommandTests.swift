import XCTest
import Foundation
import TestSupport
import ModelKernel
@testable import TimerCRIUCommands

final class KernelsCommandTests: XCTestCase {
    func testOneLinePerProfileWithStrategies() throws {
        let result = try runTimerCRIU(["kernels"])
        XCTAssertEqual(result.status, 0)
        let lines = result.stdoutText.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, KernelProfile.allCases.count)
        let columns = lines.map { $0.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true) }
        XCTAssertEqual(columns.map { String($0[0]) }, ["linux-2.6", "linux-3.10", "linux-6.15", "rfd-cursor", "rfd-dense"])
        XCTAssertEqual(columns.map { String($0[1]) },
                       ["dance(breaks)", "dance", "dance,create-at-id", "dance,cursor", "dance(breaks),create-at-id"])
        for (line, profile) in zip(lines, KernelProfile.allCases) {
            XCTAssertTrue(line.hasSuffix(profile.summary), line)
        }
    }

    func testJSON() throws {
        let result = try runTimerCRIU(["kernels", "--json"])
        XCTAssertEqual(result.status, 0)
        let object = try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]
        let kernels = try XCTUnwrap(object?["kernels"] as? [[String: Any]])
        XCTAssertEqual(kernels.map { $0["name"] as? String }, KernelProfile.allCases.map(\.rawValue))
        let strategies = kernels.map { $0["strategies"] as? [String: String] }
        XCTAssertEqual(strategies[0], ["dance": "breaks", "cursor": "unsupported", "create-at-id": "unsupported"])
        XCTAssertEqual(strategies[2], ["dance": "works", "cursor": "unsupported", "create-at-id": "works"])
        XCTAssertEqual(strategies[3], ["dance": "works", "cursor": "works", "create-at-id": "unsupported"])
        XCTAssertEqual(strategies[4], ["dance": "breaks", "cursor": "unsupported", "create-at-id": "works"])
        XCTAssertEqual(kernels[2]["restore_interfaces"] as? [String], ["prctl(PR_TIMER_CREATE_RESTORE_IDS)"])
        XCTAssertNotNil(kernels[1]["id_allocation"] as? String)
    }

    func testSimulateChildIsHidden() throws {
        let help = try runTimerCRIU(["--help"])
        XCTAssertTrue(help.stdoutText.contains("simulate"))
        XCTAssertTrue(help.stdoutText.contains("kernels"))
        XCTAssertFalse(help.stdoutText.contains("_simulate-child"))
    }
}
