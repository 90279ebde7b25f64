import XCTest
@testable import TimerCore
@testable import TimerFormats

/// The one duration formatter and the one table renderer every output uses.
final class TextOutputTests: XCTestCase {
    func testExactDurationsKeepThreeDecimalsUpToSeconds() {
        XCTAssertEqual(DurationText.exact(0), "0 ns")
        XCTAssertEqual(DurationText.exact(750), "750 ns")
        XCTAssertEqual(DurationText.exact(3_000), "3 µs")
        XCTAssertEqual(DurationText.exact(12_500_000), "12.5 ms")
        XCTAssertEqual(DurationText.exact(97_575_760_425), "97.576 s")
        XCTAssertEqual(DurationText.exact(1_999_999_999), "2 s")
        // Rounding up to a whole unit keeps the unit (as the kernel's figure would read).
        XCTAssertEqual(DurationText.exact(999_999_999), "1000 ms")
        XCTAssertEqual(DurationText.exact(7_200_000_000_000), "7200 s")
        XCTAssertEqual(DurationText.exact(Int64.max), "9223372036.855 s")
        XCTAssertEqual(DurationText.exact(-1_500), "-1.5 µs")
        XCTAssertEqual(DurationText.exact(Int64.min), "-9223372036.855 s")
    }

    func testReportDurationsKeepOneDecimalAndGoUpToHours() {
        XCTAssertEqual(DurationText.report(40), "40 ns")
        XCTAssertEqual(DurationText.report(3_249), "3.2 µs")
        XCTAssertEqual(DurationText.report(3_250), "3.3 µs")
        XCTAssertEqual(DurationText.report(218_150), "218.2 µs")
        XCTAssertEqual(DurationText.report(12_000_000), "12 ms")
        XCTAssertEqual(DurationText.report(1_500_000_000), "1.5 s")
        XCTAssertEqual(DurationText.report(1_800_000_000_000), "1800 s")
        XCTAssertEqual(DurationText.report(5_400_000_000_000), "1.5 h")
    }

    func testEstimatesUseMinutesBetweenAMinuteAndAnHour() {
        XCTAssertEqual(DurationText.estimate(rounding: 750.0), "750 ns")
        XCTAssertEqual(DurationText.estimate(rounding: 1500.4), "1.5 µs")
        XCTAssertEqual(DurationText.estimate(rounding: 8e9), "8 s")
        XCTAssertEqual(DurationText.estimate(rounding: 1_717_986_917_400.0), "28.6 min")
        XCTAssertEqual(DurationText.estimate(rounding: 11_160e9), "3.1 h")
        XCTAssertEqual(DurationText.estimate(rounding: Double.infinity), "2500000 h")
    }

    func testTableAlignsColumnsAndDropsTrailingSpaces() {
        var table = TextTable(headers: ["NAME", "N", "NOTE"], rightAligned: [1])
        table.rows = [["a", "1", ""], ["long name", "12345", "x"]]
        XCTAssertEqual(table.text, "NAME           N  NOTE\na              1\nlong name  12345  x\n")
    }

    func testMinimumWidthsKeepTheShapeAndWideCellsWidenTheColumn() {
        var table = TextTable(headers: ["ID", "CLOCK"], minimumWidths: [6], indent: "  ")
        table.rows = [["7", "monotonic"], ["12345678", "boottime"]]
        XCTAssertEqual(table.text, "  ID        CLOCK\n  7         monotonic\n  12345678  boottime\n")
        table.rows.removeLast()
        XCTAssertEqual(table.text, "  ID      CLOCK\n  7       monotonic\n")
        var bare = TextTable(headers: nil)
        bare.rows = [["a", "b"]]
        XCTAssertEqual(bare.text, "a  b\n")
    }
}
