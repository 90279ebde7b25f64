import XCTest
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TestSupport
import HostKernel
import TimerCore
import TimerFormats
import TimerComparison

/// `timer-criu compare` and `calibrate` as a user runs them (the built binary).
final class CompareCommandTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "compare-tests-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func writeCheckpoint(_ ids: [Int32]) throws -> String { try TestCheckpoints.write(ids: ids, in: directory) }

    func testTableOnTheCRIUFixture() throws {
        let fixture = BuiltProducts.repositoryRoot + "/Tests/Fixtures/criu/timers-case1"
        let result = try runTimerCRIU(["compare", fixture])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdoutText.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].hasSuffix("timers-case1: 5 timer(s), highest ID 2147483647"), lines[0])
        XCTAssertTrue(lines[1].hasPrefix("KERNEL      STRATEGY      RUN"), lines[1])
        let rows = lines[2..<17].map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        XCTAssertEqual(rows.map { $0[0] + " " + $0[1] + " " + $0[2] }.filter { $0.hasSuffix("projected") },
                       ["linux-3.10 dance projected", "linux-6.15 dance projected", "rfd-cursor dance projected"])
        // The dance to INT_MAX: 2^31 creates, 2^31 - 5 deletes, about an hour.
        XCTAssertEqual(Array(rows[3][3...4]), ["2147483648", "2147483643"])
        // Projected rows were not run: nothing was verified.
        XCTAssertTrue(lines[5].hasSuffix(" h  projected"), lines[5])  // about an hour of wall time
        XCTAssertTrue(lines[12].hasPrefix("rfd-cursor  cursor        run"), lines[12])
        XCTAssertTrue(lines[12].hasSuffix("verified"), lines[12])
        XCTAssertTrue(result.stdoutText.contains("projected, not run: 3 dance row(s)"))
    }

    /// A strategy given twice is compared once per kernel.
    func testRepeatedStrategyIsOneRow() throws {
        let result = try runTimerCRIU(["compare", try writeCheckpoint([0, 7]), "--strategy", "dance", "--strategy", "dance",
                                       "--strategy", "cursor", "--strategy", "dance"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let rows = result.stdoutText.split(separator: "\n").filter { $0.hasPrefix("linux-") || $0.hasPrefix("rfd-") }
        XCTAssertEqual(rows.count, 10, result.stdoutText)  // 5 kernels x {dance, cursor}
        XCTAssertEqual(rows.filter { $0.hasPrefix("linux-3.10  dance ") }.count, 1, result.stdoutText)
    }

    /// The sweep table names each series, so its rows read in order.
    func testSweepRowsAreInOrder() throws {
        let result = try runTimerCRIU(["compare", "--sweep", "--strategy", "create-at-id"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let single = result.stdoutText.split(separator: "\n").filter { $0.hasPrefix("single: 1 timer at ID ") }
        let ids = single.compactMap { Int64($0.dropFirst("single: 1 timer at ID ".count).prefix { $0 != " " }) }
        XCTAssertEqual(ids, ids.sorted())
        XCTAssertEqual(ids.last, Int64(Int32.max))
        let lines = result.stdoutText.split(separator: "\n").map(String.init)
        let lastSingle = try XCTUnwrap(lines.lastIndex { $0.hasPrefix("single:") })
        let firstDense = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("dense:") })
        XCTAssertLessThan(lastSingle, firstDense)
        XCTAssertTrue(lines[firstDense].hasPrefix("dense: 1 timer (ID 0) "), lines[firstDense])
    }

    func testJSONRowsAndSVG() throws {
        let path = try writeCheckpoint([0, 3, 7])
        let svg = directory + "/bars.svg"
        let result = try runTimerCRIU(["compare", path, "--json", "--svg", svg])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        XCTAssertEqual(object["timers"] as? Int, 3)
        XCTAssertEqual(object["max_id"] as? Int, 7)
        let rows = try XCTUnwrap(object["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.count, 15)
        let createAtID = try XCTUnwrap(rows.first { $0["kernel"] as? String == "linux-6.15" && $0["strategy"] as? String == "create-at-id" })
        XCTAssertEqual(createAtID["ok"] as? Bool, true)
        XCTAssertEqual(createAtID["run"] as? Bool, true)
        XCTAssertEqual((createAtID["syscalls"] as? [String: Int])?["timer_create"], 3)
        XCTAssertEqual((createAtID["syscalls"] as? [String: Int])?["prctl"], 2)
        let costs = SyscallCosts.measured618
        XCTAssertEqual(createAtID["projected_ns"] as? Int, Int((3 * costs.createAtID + 2 * costs.prctl).rounded()))
        let broken = try XCTUnwrap(rows.first { $0["kernel"] as? String == "rfd-dense" && $0["strategy"] as? String == "dance" })
        XCTAssertEqual((broken["error"] as? [String: Any])?["code"] as? String, "ids-not-consecutive")
        let parser = try XCTUnwrap(XMLParser(contentsOf: URL(fileURLWithPath: svg)))
        XCTAssertTrue(parser.parse(), "\(String(describing: parser.parserError))")
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        for kernel in ["linux-2.6", "linux-3.10", "linux-6.15", "rfd-cursor", "rfd-dense"] {
            XCTAssertTrue(text.contains(">\(kernel)</text>"), kernel)
        }
    }

    func testBadInputs() throws {
        let missing = try runTimerCRIU(["compare", directory + "/nope.json"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.hasPrefix("timer-criu: \(directory)/nope.json: "), missing.stderr)

        let path = try writeCheckpoint([1])
        let costs = directory + "/costs.json"
        try Data("{\"format\": \"timer-criu-costs/1\"}".utf8).write(to: URL(fileURLWithPath: costs))
        let badCosts = try runTimerCRIU(["compare", path, "--costs", costs])
        XCTAssertEqual(badCosts.status, 2)
        XCTAssertEqual(badCosts.stderr, "timer-criu: \(costs): missing member \"kernel\"\n")
        XCTAssertTrue(badCosts.stdout.isEmpty)

        XCTAssertEqual(try runTimerCRIU(["compare"]).status, 64)
        XCTAssertEqual(try runTimerCRIU(["compare", path, "--sweep"]).status, 64)
        XCTAssertEqual(try runTimerCRIU(["compare", path, "--run-limit", "0"]).status, 64)
        XCTAssertEqual(try runTimerCRIU(["calibrate", "--iterations", "0"]).status, 64)
    }

    /// calibrate measures the host (a few hundred real timers, all deleted
    /// again) and compare projects with its file.
    func testCalibrateThenCompareWithItsCosts() throws {
        let costs = directory + "/costs.json"
        let calibrate = try runTimerCRIU(["calibrate", "-o", costs, "--iterations", "300", "--rounds", "3",
                                          "--live-timers", "50"])
        if calibrate.status == 1 && calibrate.stderr.contains("EAGAIN") {
            throw XCTSkip("RLIMIT_SIGPENDING is taken by other processes: \(calibrate.stderr)")
        }
        if calibrate.status == 1 && calibrate.stderr.contains("prctl(PR_TIMER_CREATE_RESTORE_IDS, ON): EINVAL") {
            throw XCTSkip("this kernel has no create-at-ID (needs 6.15+)")
        }
        XCTAssertEqual(calibrate.status, 0, calibrate.stderr)
        XCTAssertTrue(calibrate.stdout.isEmpty)
        let figures = try SyscallCosts.load(path: costs)
        XCTAssertEqual(figures.liveTimers, 50)
        XCTAssertTrue(figures.source.hasPrefix("timer-criu calibrate on Linux "), figures.source)
        // Projections stand for the wall time of a real restore, and are calibrated on that.
        XCTAssertTrue(figures.source.contains("wall time"), figures.source)
        XCTAssertTrue(figures.source.contains("create_delete_pair from real host dances in a fresh helper"), figures.source)
        XCTAssertEqual(calibrate.stderr.split(separator: "\n").filter { $0.contains("host dance to ID 100000 in a fresh helper") }.count, 3,
                       calibrate.stderr)
        for figure in figures.figures {
            // Real syscalls: more than a few ns, less than a millisecond.
            XCTAssertGreaterThan(figure.nanoseconds, 10, figure.name)
            XCTAssertLessThan(figure.nanoseconds, 1_000_000, figure.name)
        }
        let path = try writeCheckpoint([0, 3, 7])
        let result = try runTimerCRIU(["compare", path, "--json", "--costs", costs])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        XCTAssertEqual((object["costs"] as? [String: Any])?["source"] as? String, figures.source)
        let rows = try XCTUnwrap(object["rows"] as? [[String: Any]])
        let dance = try XCTUnwrap(rows.first { $0["kernel"] as? String == "linux-3.10" && $0["strategy"] as? String == "dance" })
        XCTAssertEqual(Double(dance["projected_ns"] as? Int ?? -1),
                       (5 * figures.createDeletePair + 3 * figures.create).rounded())
    }
}
