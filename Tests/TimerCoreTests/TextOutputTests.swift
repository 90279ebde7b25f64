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

    func testJSONOutputLaysOutObjectsInlineOrOneMemberALine() {
        let document = JSONOutput.object([
            ("name", .string("a \"b\"\n")), ("none", .null), ("big", .integer(UInt64.max)),
            ("list", .array([.integer(1), .bool(false)])),
            ("rows", .array([.object([("k", .integer(-1))]), .object([("k", .strings([]))])], .lines)),
            ("empty", .array([], .lines)),
            ("each", .elements(count: 2, .lines) { i, out in out.append(contentsOf: "\(i * 10)".utf8) }),
        ], .lines)
        XCTAssertEqual(document.documentText, """
            {
              "name": "a \\"b\\"\\n",
              "none": null,
              "big": 18446744073709551615,
              "list": [1, false],
              "rows": [
                {"k": -1},
                {"k": []}
              ],
              "empty": [],
              "each": [
                0,
                10
              ]
            }

            """)
        // Step 0: members at the start of their lines, nested containers still step from their own line.
        let flat = JSONOutput.object([("a", .array([.object([("b", .array([.integer(1)], .lines))])], .lines(step: 0)))],
                                     .lines(step: 0))
        XCTAssertEqual(flat.documentText, "{\n\"a\": [\n{\"b\": [\n  1\n]}\n]\n}\n")
    }

    func testSyscallObjectsListTheirCountersAndTotal() {
        var counts = SyscallCounts()
        counts.timerCreate = 4; counts.timerSettime = 3; counts.prctl = 2; counts.timerGettime = 9
        XCTAssertEqual(counts.json.documentText, """
            {"timer_create": 4, "timer_delete": 0, "timer_settime": 3, "prctl": 2, "sysctl_write": 0, "total": 9}

            """)
        XCTAssertEqual(counts.text, "timer_create 4, timer_delete 0, timer_settime 3, prctl 2, sysctl_write 0")
        // Reads are added up by + but are not in the total.
        XCTAssertEqual((counts + counts).timerGettime, 18)
        XCTAssertEqual((counts + counts).total, 18)
        var fd = TimerFDSyscallCounts()
        fd.dup2 = 2; fd.ioctl = 1
        XCTAssertEqual(fd.json.documentText, """
            {"timerfd_create": 0, "dup2": 2, "close": 0, "timerfd_settime": 0, "ioctl": 1, "setitimer": 0, "total": 3}

            """)
        XCTAssertEqual((fd + fd).text, "timerfd_create 0, dup2 4, close 0, timerfd_settime 0, ioctl 2, setitimer 0")
    }
}
