import XCTest
@testable import TimerCore
@testable import TimerFormats
@testable import TimerComparison

/// The fast paths of the JSON writer (docs/performance.md) give the same text
/// as the plain ones: integers at their limits, sigev values, escapes, and
/// the streamed output in pieces.
final class JSONWriterTests: XCTestCase {
    func testIntegersAtTheirLimits() {
        let values: [Int64] = [0, 1, 9, 10, -1, -9, -10, 123_456_789, Int64(Int32.max), Int64(Int32.min), .max, .min]
        for value in values {
            var out: [UInt8] = []
            JSONWriter.appendInteger(value, to: &out)
            XCTAssertEqual(String(decoding: out, as: UTF8.self), String(value))
        }
        var out: [UInt8] = []
        JSONWriter.appendInteger(UInt64.max, to: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "18446744073709551615")
    }

    func testTimerLineMatchesThePlainWriters() {
        let timer = CheckpointTimer(id: .max, clockID: ClockID(.min), signal: .min, sigevValue: .max,
                                    sigevValueReliable: false, notify: .none, notifyTarget: .max,
                                    valueNanoseconds: .max, intervalNanoseconds: .min, overrun: .max)
        var line: [UInt8] = []
        timer.appendJSON(to: &line)
        XCTAssertEqual(String(decoding: line, as: UTF8.self),
                       "{\"id\": 2147483647, \"clock_id\": -2147483648, \"clock\": \"\(timer.clockID.name)\", "
                       + "\"signal\": -2147483648, \"sigev_value\": \"\(timer.sigevValueHex)\", "
                       + "\"sigev_value_reliable\": false, \"notify\": \"none\", \"notify_target\": 2147483647, "
                       + "\"value_ns\": 9223372036854775807, \"interval_ns\": -9223372036854775808, "
                       + "\"overrun\": 2147483647}")
    }

    func testEscapes() {
        var out: [UInt8] = []
        JSONWriter.appendString("a\"b\\c\nd\re\tf\u{1}g\u{1f}é", to: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), #""a\"b\\c\nd\re\tf\u0001g\u001fé""#)
    }

    func testStreamedTextIsTheSameInAnyPieceSize() {
        let timers = (0..<500).map {
            CheckpointTimer(id: Int32($0) * 4099, clockID: .monotonic, signal: 14, sigevValue: UInt64($0) << 20,
                            notify: .signal, notifyTarget: 77)
        }
        let checkpoint = Checkpoint(pid: 77, kernel: "6.18.44", threads: [77], timers: timers,
                                    warnings: ["w1", "a \"quoted\" one"])
        let whole = checkpoint.jsonBytes()
        for chunkSize in [1, 100, 4096, 1 << 16] {
            var pieces: [UInt8] = []
            var calls = 0
            checkpoint.writeJSON(chunkSize: chunkSize) { chunk in
                pieces.append(contentsOf: chunk)
                calls += 1
            }
            XCTAssertEqual(pieces, whole, "chunk size \(chunkSize)")
            if chunkSize == 100 { XCTAssertGreaterThan(calls, 100) }
        }
    }
}
