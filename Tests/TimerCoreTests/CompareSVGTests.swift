import XCTest
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import TimerCore
@testable import TimerComparison

/// The pictures are well-formed XML and show what they claim.
final class CompareSVGTests: XCTestCase {
    /// Elements by name, and all text content, from an XML parse.
    final class Collector: NSObject, XMLParserDelegate {
        var elements: [String: Int] = [:]
        var texts: [String] = []
        var current = ""
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            elements[name, default: 0] += 1
            current = ""
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { current += string }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "text" { texts.append(current) }
            current = ""
        }
    }

    func parse(_ svg: String, file: StaticString = #filePath, line: UInt = #line) throws -> Collector {
        let parser = XMLParser(data: Data(svg.utf8))
        let collector = Collector()
        parser.delegate = collector
        XCTAssertTrue(parser.parse(), "not well-formed: \(String(describing: parser.parserError))", file: file, line: line)
        XCTAssertEqual(collector.elements["svg"], 1, file: file, line: line)
        return collector
    }

    func row(_ kernel: String, _ strategy: RestoreStrategy, ns: Double, ok: Bool = true, run: Bool = true) -> CompareRow {
        var counts = SyscallCounts()
        counts.timerCreate = 3
        return CompareRow(kernel: kernel, strategy: strategy, usedStrategy: strategy, wasRun: run,
                          error: ok ? nil : RestoreFailure(.strategyUnsupported, "no <cursor> & \"sysctl\""),
                          syscalls: counts, modelNanoseconds: run ? 1000 : nil, projectedNanoseconds: ns)
    }

    func testBarChart() throws {
        let matrix = CompareMatrix(rows: [
            row("linux-3.10", .dance, ns: 1_717_986_917_400, run: false), row("linux-3.10", .cursor, ns: 1000, ok: false),
            row("linux-6.15", .dance, ns: 1_717_986_917_400, run: false), row("linux-6.15", .createAtID, ns: 3300),
        ], costs: .measured618, runLimit: 1 << 20, timerCount: 5, maxID: Int32.max)
        let svg = matrix.svg(title: "compare <case1> & more")
        let parsed = try parse(svg)
        XCTAssertTrue(parsed.texts.contains("compare <case1> & more"))
        XCTAssertTrue(parsed.texts.contains("linux-3.10"))
        XCTAssertTrue(parsed.texts.contains("linux-6.15"))
        XCTAssertTrue(parsed.texts.contains("create-at-id"))
        XCTAssertTrue(parsed.texts.contains("28.6 min"))
        XCTAssertTrue(parsed.texts.contains("3.3 µs"))
        XCTAssertTrue(parsed.texts.contains("fails"))
        // Decade labels from below 3.3 us up to past 28.6 min.
        XCTAssertTrue(parsed.texts.contains("1 µs"))
        XCTAssertTrue(parsed.texts.contains("10000 s"))
        // Background + legend (3 swatches + pale) + 3 bars.
        XCTAssertEqual(parsed.elements["rect"], 1 + 4 + 3)
    }

    func testSweepChartHasBothPanelsAndEverySeries() throws {
        var points: [Sweep.Point] = []
        for id in Sweep.singleIDs {
            points.append(.init(workload: .singleAt(id), row: row("linux-3.10", .dance, ns: Double(id) * 800,
                                                                   run: id < 1_000_000)))
            points.append(.init(workload: .singleAt(id), row: row("linux-6.15", .createAtID, ns: 750)))
        }
        for n in Sweep.denseCounts {
            points.append(.init(workload: .dense(n), row: row("linux-3.10", .dance, ns: Double(n) * 450)))
            points.append(.init(workload: .dense(n), row: row("linux-6.15", .createAtID, ns: Double(n) * 450 + 300)))
        }
        let sweep = Sweep(points: points, strategies: [.dance, .createAtID], costs: .measured618, runLimit: 1 << 20)
        let parsed = try parse(sweep.svg())
        XCTAssertEqual(parsed.elements["polyline"], 4, "2 strategies x 2 panels")
        XCTAssertEqual(parsed.elements["circle"], 2 + 2 * (Sweep.singleIDs.count + Sweep.denseCounts.count))
        XCTAssertTrue(parsed.texts.contains("dance (linux-3.10)"))
        XCTAssertTrue(parsed.texts.contains("create-at-id (linux-6.15)"))
        XCTAssertTrue(parsed.texts.contains("one timer at ID x"))
        XCTAssertTrue(parsed.texts.contains("x timers at IDs 0 ... x-1"))
        XCTAssertTrue(parsed.texts.contains("INT_MAX"))
        XCTAssertTrue(parsed.texts.contains("10⁹"))
        XCTAssertTrue(parsed.texts.contains("28.6 min at ID INT_MAX"), "\(parsed.texts)")
    }

    func testWorkloads() {
        XCTAssertEqual(Sweep.singleIDs.first, 10)
        XCTAssertEqual(Sweep.singleIDs.suffix(2), [1_000_000_000, Int32.max])
        XCTAssertEqual(Sweep.denseCounts, [1, 10, 100, 1000, 10_000, 100_000])
        XCTAssertEqual(Sweep.Workload.dense(3).checkpoint.timers.map(\.id), [0, 1, 2])
        XCTAssertEqual(Sweep.Workload.singleAt(77).checkpoint.timers.map(\.id), [77])
    }
}
