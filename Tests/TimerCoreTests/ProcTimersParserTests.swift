import TestSupport
import XCTest
@testable import TimerCore
@testable import TimerComparison

/// The /proc/PID/timers parser on text alone (docs/kernel-facts.md section 1).
final class ProcTimersParserTests: XCTestCase {
    func parse(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> [ProcTimer] {
        do {
            return try ProcTimersParser.parse(text)
        } catch {
            XCTFail("refused: \(error)", file: file, line: line)
            throw error
        }
    }

    func assertRefused(_ text: String, line expectedLine: Int, containing fragment: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        do {
            let timers = try ProcTimersParser.parse(text)
            XCTFail("accepted: \(timers)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.line, expectedLine, "\(error)", file: file, line: line)
            XCTAssertTrue(error.problem.contains(fragment), "\(error) lacks \(fragment)", file: file, line: line)
            XCTAssertTrue(error.description.hasPrefix("line \(expectedLine): "), file: file, line: line)
        }
    }

    func testEmptyTextIsNoTimers() throws {
        XCTAssertEqual(try parse(""), [])
    }

    func testTheKernelFactsExampleBlock() throws {
        let timers = try parse("ID: 123456\nsignal: 40/00000000deadbeef\nnotify: signal/tid.2718\nClockID: 1\n")
        XCTAssertEqual(timers, [ProcTimer(id: 123456, signal: 40, sigevValue: 0xdeadbeef, sigevValueForm: .padded,
                                          notify: .threadID, notifyTarget: 2718, clockID: .monotonic)])
    }

    func testKeepsTheKernelsOrder() throws {
        let text = """
            ID: 7
            signal: 14/0000000000000000
            notify: signal/pid.10
            ClockID: 0
            ID: 0
            signal: 14/0000000000000000
            notify: signal/pid.10
            ClockID: 0

            """
        XCTAssertEqual(try parse(text).map(\.id), [7, 0])
    }

    /// The /proc text CRIU's own test case recorded (Tests/Fixtures/criu).
    func testTheCRIUFixtureText() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/criu/timers-case1/proc-timers-before.txt")
        let data = try Data(contentsOf: url)
        let timers = try ProcTimersParser.parse(Array(data))
        XCTAssertEqual(timers.map(\.id), [99, 2147483647, 123456, 7, 0])
        XCTAssertEqual(timers[0].notify, .threadID)
        XCTAssertEqual(timers[0].notifyTarget, 10179)
        XCTAssertEqual(timers[1].clockID, .processCPUTime)
        XCTAssertEqual(timers[2].notify, .none)
        XCTAssertEqual(timers[3].sigevValue, 0x0000deadbeefcafe)
    }

    // MARK: sival forms

    func testSivalPaddedWithHighBitSet() throws {
        let t = try parse("ID: 0\nsignal: 14/ffffffffffffffff\nnotify: signal/pid.1\nClockID: 0\n")[0]
        XCTAssertEqual(t.sigevValue, .max)
        XCTAssertEqual(t.sigevValueForm, .padded)
        let u = try parse("ID: 0\nsignal: 14/8000000000000001\nnotify: signal/pid.1\nClockID: 0\n")[0]
        XCTAssertEqual(u.sigevValue, 0x8000_0000_0000_0001)
    }

    func testSivalUnpaddedPre415() throws {
        let t = try parse("ID: 3\nsignal: 14/deadbeef\nnotify: signal/pid.1\nClockID: 0\n")[0]
        XCTAssertEqual(t.sigevValue, 0xdeadbeef)
        XCTAssertEqual(t.sigevValueForm, .unpadded)
        let zero = try parse("ID: 3\nsignal: 14/0\nnotify: signal/pid.1\nClockID: 0\n")[0]
        XCTAssertEqual(zero.sigevValue, 0)
        XCTAssertEqual(zero.sigevValueForm, .unpadded)
    }

    func testSivalNull() throws {
        let t = try parse("ID: 3\nsignal: 14/(null)\nnotify: signal/pid.1\nClockID: 0\n")[0]
        XCTAssertEqual(t.sigevValue, 0)
        XCTAssertEqual(t.sigevValueForm, .null)
    }

    // MARK: notify forms

    func testAllNotifyForms() throws {
        let cases: [(String, NotifyMode)] = [
            ("signal/pid.42", .signal), ("signal/tid.43", .threadID), ("none/pid.42", .none), ("thread/pid.42", .thread),
        ]
        for (form, mode) in cases {
            let t = try parse("ID: 1\nsignal: 14/0000000000000000\nnotify: \(form)\nClockID: 0\n")[0]
            XCTAssertEqual(t.notify, mode, form)
            XCTAssertEqual(t.notifyTarget, form.hasSuffix("43") ? 43 : 42, form)
        }
    }

    func testNotifyTargetZeroFromAnotherPidNamespace() throws {
        // pid_nr_ns() prints 0 for a pid the reader's namespace cannot see.
        XCTAssertEqual(try parse("ID: 1\nsignal: 14/0000000000000000\nnotify: signal/pid.0\nClockID: 0\n")[0]
            .notifyTarget, 0)
    }

    // MARK: numbers

    func testNegativeClockIDs() throws {
        for clock: Int32 in [-6, -2, -14, -8, -7, -4, -3, Int32.min] {
            let t = try parse("ID: 1\nsignal: 14/0000000000000000\nnotify: signal/pid.1\nClockID: \(clock)\n")[0]
            XCTAssertEqual(t.clockID.rawValue, clock)
        }
    }

    func testAnyIntAsTheSignal() throws {
        for signal: Int32 in [-1, 0, 12345, Int32.max, Int32.min] {
            let t = try parse("ID: 1\nsignal: \(signal)/0000000000000000\nnotify: none/pid.1\nClockID: 1\n")[0]
            XCTAssertEqual(t.signal, signal)
        }
    }

    func testIDBounds() throws {
        XCTAssertEqual(try parse("ID: 0\nsignal: 14/0000000000000000\nnotify: signal/pid.1\nClockID: 0\n")[0].id, 0)
        XCTAssertEqual(try parse("ID: 2147483647\nsignal: 14/0000000000000000\nnotify: signal/pid.1\nClockID: 0\n")[0]
            .id, .max)
        assertRefused("ID: 2147483648\nsignal: 14/0000000000000000\nnotify: signal/pid.1\nClockID: 0\n",
                      line: 1, containing: "outside 0...2147483647")
        assertRefused("ID: -1\nsignal: 14/0000000000000000\nnotify: signal/pid.1\nClockID: 0\n",
                      line: 1, containing: "outside")
        assertRefused("ID: 99999999999999999999\nsignal: 14/0\nnotify: signal/pid.1\nClockID: 0\n",
                      line: 1, containing: "outside")
        assertRefused("ID: 1\nsignal: 14/0\nnotify: signal/pid.1\nClockID: 2147483648\n",
                      line: 4, containing: "clock id 2147483648 is outside")
    }

    // MARK: refusals name the line

    func testMalformedLinesAreRefusedWithTheirNumber() {
        let good = "ID: 1\nsignal: 14/0000000000000000\nnotify: signal/pid.1\nClockID: 0\n"
        assertRefused(good + "ID 2\n", line: 5, containing: "expected \"ID: \"")
        assertRefused(good + "ID: x\n", line: 5, containing: "timer ID")
        assertRefused(good + "ID: 2\nsignl: 14/0\n", line: 6, containing: "expected \"signal: \"")
        assertRefused(good + "ID: 2\nsignal: 14\n", line: 6, containing: "\"/\"")
        assertRefused(good + "ID: 2\nsignal: 14/xyz\n", line: 6, containing: "sigev value")
        assertRefused(good + "ID: 2\nsignal: 14/00000000000000000\n", line: 6, containing: "more than 16")
        assertRefused(good + "ID: 2\nsignal: 14/0 \n", line: 6, containing: "unexpected \" \"")
        assertRefused(good + "ID: 2\nsignal: /0\n", line: 6, containing: "signal number")
        assertRefused(good + "ID: 2\nsignal: 14/0\nnotify: bogus/pid.1\n", line: 7, containing: "notify kind")
        assertRefused(good + "ID: 2\nsignal: 14/0\nnotify: signal/xid.1\n", line: 7, containing: "pid or tid")
        assertRefused(good + "ID: 2\nsignal: 14/0\nnotify: none/tid.1\n", line: 7, containing: "not a combination")
        assertRefused(good + "ID: 2\nsignal: 14/0\nnotify: signal/pid.\n", line: 7, containing: "notify target")
        assertRefused(good + "ID: 2\nsignal: 14/0\nnotify: signal/pid.-3\n", line: 7, containing: "notify target")
        assertRefused(good + "ID: 2\nsignal: 14/0\nnotify: signal/pid.1\nClock: 0\n", line: 8, containing: "ClockID")
        assertRefused(good + "ID: 2\nsignal: 14/0\nnotify: signal/pid.1\nClockID: one\n", line: 8, containing: "clock id")
        assertRefused("\n", line: 1, containing: "expected \"ID: \"")
        assertRefused("ID: 1\r\nsignal: 14/0\n", line: 1, containing: "unexpected")
    }

    func testTruncatedTextIsRefused() {
        let good = "ID: 1\nsignal: 14/0000000000000000\nnotify: signal/pid.1\nClockID: 0\n"
        assertRefused(good + "ID: 2\n", line: 6, containing: "truncated")
        assertRefused(good + "ID: 2\nsignal: 14/0000000000000000\nnotify: signal/pid.1\n", line: 8,
                      containing: "truncated")
        assertRefused(good + "ID: 2\nsignal: 14/0000000000000000\nnotify: signal/pid.1\nClockID: 0", line: 8,
                      containing: "no newline")
        assertRefused(String(good.dropLast(20)), line: 3, containing: "no newline")
    }

    // MARK: the renderer and the parser agree

    func testRoundTripThroughTheRenderer() throws {
        let timers = [
            ProcTimer(id: 2147483647, signal: 34, sigevValue: 0x8000_0000_0000_0001, notify: .threadID,
                      notifyTarget: 77, clockID: .processCPUTime),
            ProcTimer(id: 0, signal: -1, sigevValue: 0, sigevValueForm: .null, notify: .none, notifyTarget: 5,
                      clockID: ClockID(-14)),
            ProcTimer(id: 9, signal: 64, sigevValue: 0xabc, sigevValueForm: .unpadded, notify: .thread,
                      notifyTarget: 5, clockID: .boottime),
        ]
        XCTAssertEqual(try ProcTimersParser.parse(ProcTimersRenderer.render(timers)), timers)
    }

    /// 90,000 timers (6.6 MB, the RLIMIT_SIGPENDING scale of docs/kernel-facts.md
    /// section 2) parse well within a second, even in a debug build.
    func testNinetyThousandTimersParseQuickly() throws {
        var timers: [ProcTimer] = []
        for i in stride(from: Int32(89_999), through: 0, by: -1) {
            let notify: NotifyMode = i % 3 == 0 ? .threadID : .signal
            let value = UInt64(i) &* 0x9e37_79b9_7f4a_7c15
            timers.append(ProcTimer(id: i, signal: 14, sigevValue: value, notify: notify, notifyTarget: 4242,
                                    clockID: ClockID(i % 2)))
        }
        let text = ProcTimersRenderer.render(timers)
        XCTAssertGreaterThan(text.count, 6_000_000)
        let start = DispatchTime.now().uptimeNanoseconds
        let parsed = try ProcTimersParser.parse(text)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        XCTAssertEqual(parsed.count, 90_000)
        XCTAssertEqual(parsed, timers)
        // A time bound means nothing under a sanitizer (ThreadSanitizer: 2.7 s here).
        if ActiveSanitizer.name == nil { XCTAssertLessThan(seconds, 2.0, "parsing 90,000 timers took \(seconds) s") }
        print("parsed 90,000 timers (\(text.count) bytes) in \(String(format: "%.3f", seconds)) s")
    }
}
