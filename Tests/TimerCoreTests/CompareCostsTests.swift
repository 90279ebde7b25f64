import XCTest
import HostKernel
@testable import TimerCore
@testable import TimerFormats
@testable import TimerComparison

/// Projection arithmetic, the costs file, the gap-shrunk dance and the table.
final class CompareCostsTests: XCTestCase {
    let costs = SyscallCosts(createDeletePair: 800, create: 450, createAtID: 500, delete: 300, settime: 200,
                             prctl: 100, sysctlWrite: 1000, kernel: "test", liveTimers: 7, source: "test figures")

    func counts(create: Int = 0, delete: Int = 0, settime: Int = 0, prctl: Int = 0, sysctl: Int = 0) -> SyscallCounts {
        var c = SyscallCounts()
        c.timerCreate = create
        c.timerDelete = delete
        c.timerSettime = settime
        c.prctl = prctl
        c.sysctlWrite = sysctl
        return c
    }

    func testDanceCountsPairsThenLeftoverCreates() {
        // One timer at ID 1,000,000: 1,000,001 creates, 1,000,000 deletes.
        let ns = costs.projectedNanoseconds(counts(create: 1_000_001, delete: 1_000_000), strategy: .dance)
        XCTAssertEqual(ns, Double(1_000_000 * 800 + 450))
        // INT_MAX: about an hour of wall time at 1.7 us a pair (docs/kernel-facts.md section 3).
        let intMax = SyscallCosts.measured618.projectedNanoseconds(
            counts(create: Int(Int32.max) + 1, delete: Int(Int32.max)), strategy: .dance)
        XCTAssertGreaterThan(intMax, 50 * 60e9)
        XCTAssertLessThan(intMax, 70 * 60e9)
    }

    func testCreateAtIDUsesItsOwnFigureAndPrctl() {
        XCTAssertEqual(costs.projectedNanoseconds(counts(create: 5, settime: 3, prctl: 2), strategy: .createAtID),
                       Double(5 * 500 + 3 * 200 + 2 * 100))
    }

    func testCursorIsAWritePlusAPlainCreate() {
        XCTAssertEqual(costs.projectedNanoseconds(counts(create: 5, sysctl: 5), strategy: .cursor), Double(5 * 1450))
        // Deletes without creates (none in practice) cost a delete each.
        XCTAssertEqual(costs.projectedNanoseconds(counts(delete: 2), strategy: .cursor), 600)
    }

    func testCostsFileRoundTrip() throws {
        let bytes = costs.jsonBytes()
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("{\n  \"format\": \"timer-criu-costs/1\""), text)
        XCTAssertEqual(try SyscallCosts(json: bytes, path: "x"), costs)
        XCTAssertEqual(try SyscallCosts(json: SyscallCosts.measured618.jsonBytes(), path: "x"), .measured618)
        var fractional = costs
        fractional.createDeletePair = 812.4
        XCTAssertEqual(try SyscallCosts(json: fractional.jsonBytes(), path: "x").createDeletePair, 812.4)
    }

    func testCostsFileRefusals() {
        let good = String(decoding: costs.jsonBytes(), as: UTF8.self)
        let cases: [(String, String)] = [
            ("[]", "expected an object, found an array"),
            ("{", "not JSON"),
            (good.replacing("timer-criu-costs/1", with: "timer-criu-costs/2"), "format: \"timer-criu-costs/2\""),
            (good.replacing("\"prctl\": 100", with: "\"prctl\": -1"), "nanoseconds.prctl: -1 is not a cost"),
            (good.replacing("\"prctl\": 100", with: "\"prctl\": 0"), "nanoseconds.prctl: 0 is not a cost"),
            // A figure of seconds projected a dance to
            // INT_MAX past Int64.max; a denormal made every coordinate infinite.
            (good.replacing("\"prctl\": 100", with: "\"prctl\": 5e9"), "nanoseconds.prctl: 5e9 is not a cost (must be 1 to 1000000 ns)"),
            (good.replacing("\"prctl\": 100", with: "\"prctl\": 5e-324"), "nanoseconds.prctl: 5e-324 is not a cost"),
            (good.replacing("\"prctl\": 100", with: "\"prctl\": 0.5"), "nanoseconds.prctl: 0.5 is not a cost"),
            (good.replacing("\"prctl\": 100", with: "\"prctl\": \"100\""), "nanoseconds.prctl: expected a number"),
            (good.replacing("\"prctl\": 100", with: "\"prctI\": 100"), "nanoseconds.prctI: unknown figure"),
            (good.replacing(",\n    \"prctl\": 100", with: ""), "missing figure \"prctl\""),
            (good.replacing("\"live_timers\": 7", with: "\"live_timers\": 7.5"), "live_timers: expected an integer"),
            (good.replacing("\"kernel\": \"test\",", with: ""), "missing member \"kernel\""),
            (good.replacing("\"kernel\"", with: "\"colonel\""), "unknown member \"colonel\""),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try SyscallCosts(json: Array(text.utf8), path: "costs.json"), expected) { error in
                let message = String(describing: error)
                XCTAssertTrue(message.hasPrefix("costs.json: "), message)
                XCTAssertTrue(message.contains(expected), "\(message) lacks \(expected)")
            }
        }
    }

    /// Projections saturate instead of trapping in Int64(), and chart
    /// coordinates of values no axis holds are drawn, not trapped on.
    func testProjectionsSaturateAndChartsTakeAnyValue() {
        XCTAssertEqual(SyscallCosts.integerNanoseconds(1e30), Int64.max)
        XCTAssertEqual(SyscallCosts.integerNanoseconds(.infinity), Int64.max)
        XCTAssertEqual(SyscallCosts.integerNanoseconds(.nan), Int64.max)
        XCTAssertEqual(SyscallCosts.integerNanoseconds(-5), 0)
        XCTAssertEqual(SyscallCosts.integerNanoseconds(1234.6), 1235)
        XCTAssertEqual(SVGDocument.number(.nan), "0")
        XCTAssertEqual(SVGDocument.number(-.infinity), "0")
        XCTAssertEqual(SVGDocument.number(1e300), "1000000000000000")
        let axis = LogAxis(covering: [Double.leastNonzeroMagnitude, .infinity, .nan], from: 400, to: 100)
        XCTAssertLessThan(axis.lowDecade, axis.highDecade)
        // The largest figure the file allows keeps a dance to INT_MAX exact.
        let worst = SyscallCosts(createDeletePair: 1e6, create: 1e6, createAtID: 1e6, delete: 1e6, settime: 1e6,
                                 prctl: 1e6, sysctlWrite: 1e6, kernel: "k", liveTimers: 0, source: "s")
        var counts = SyscallCounts()
        counts.timerCreate = Int(Int32.max) + 1
        counts.timerDelete = Int(Int32.max)
        counts.timerSettime = 1
        let projected = worst.projectedNanoseconds(counts, strategy: .dance)
        XCTAssertLessThan(projected, 9.2e18)
        XCTAssertEqual(SyscallCosts.integerNanoseconds(projected), Int64(projected))
    }

    func testLoadNamesAMissingFile() {
        XCTAssertThrowsError(try SyscallCosts.load(path: "/nonexistent/costs.json")) { error in
            XCTAssertTrue(String(describing: error).hasPrefix("/nonexistent/costs.json: "), "\(error)")
        }
    }

    func testDanceShrinkKeepsOrderAndOneIDGaps() {
        let ids: [Int32] = [0, 1, 7, 123_456, Int32.max]
        let checkpoint = Checkpoint(pid: 5, kernel: "k", threads: [5], timers: ids.map {
            CheckpointTimer(id: $0, clockID: .monotonic, signal: 14, sigevValue: 0, notify: .signal, notifyTarget: 5)
        })
        let shrink = DanceShrink(checkpoint)
        XCTAssertEqual(shrink.shrunk, [0, 1, 3, 5, 7])
        XCTAssertEqual(shrink.checkpoint.timers.map(\.id), [0, 1, 3, 5, 7])
        // Real dance: INT_MAX + 1 creates; shrunk: 8. The difference is the extra steps.
        XCTAssertEqual(shrink.extraSteps(before: nil), Int64(Int32.max) + 1 - 8)
        // Failing at the first create for shrunk ID 5 (real 123456): its own gap
        // was never danced through, only the one before 7 (real 5 steps, shrunk 1).
        XCTAssertEqual(shrink.extraSteps(before: 5), 4)
        XCTAssertEqual(shrink.extraSteps(before: 7), 4 + (123_456 - 7) - (5 - 3))
        XCTAssertEqual(shrink.realID(5), 123_456)
        XCTAssertNil(shrink.realID(4))
    }

    func testShortOutcomes() {
        XCTAssertEqual(CompareRow.shorten(RestoreFailure(.idsNotConsecutive,
            "dance to ID 7: timer_create returned ID 1 where 2 was next: the kernel does not give IDs consecutively")),
            "IDs reused: dance to ID 7: got ID 1 where 2 was next")
        XCTAssertEqual(CompareRow.shorten(RestoreFailure(.strategyUnsupported, "long text",
            syscallError: SyscallError("write(timer_id_cursor)", timerID: 3, errno: .ENOENT))),
            "no cursor sysctl (ENOENT)")
        XCTAssertEqual(CompareRow.shorten(RestoreFailure(.syscallFailed, "long",
            syscallError: SyscallError("timer_create", timerID: 9, errno: .EAGAIN))), "timer_create(id=9): EAGAIN")
    }

    func testAxisLabels() {
        XCTAssertEqual(LogAxis.durationLabel(nanosecondsExponent: 2), "100 ns")
        XCTAssertEqual(LogAxis.durationLabel(nanosecondsExponent: 3), "1 µs")
        XCTAssertEqual(LogAxis.durationLabel(nanosecondsExponent: 12), "1000 s")
        XCTAssertEqual(LogAxis.durationLabel(nanosecondsExponent: 18), "1000000000 s")
        XCTAssertEqual(LogAxis.durationLabel(nanosecondsExponent: -1), "10^-1 ns")
        XCTAssertEqual(LogAxis.powerOfTen(9), "10⁹")
        XCTAssertEqual(LogAxis.powerOfTen(10), "10¹⁰")
    }
}
