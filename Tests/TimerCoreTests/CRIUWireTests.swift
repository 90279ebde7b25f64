import XCTest
@testable import TimerCore
@testable import TimerFormats
@testable import TimerComparison

/// A tiny protobuf/CRIU image writer for building test images byte by byte.
enum TestImage {
    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        while value >= 0x80 {
            out.append(UInt8(value & 0x7f) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
        return out
    }

    static func key(_ number: UInt32, _ wireType: UInt8) -> [UInt8] {
        varint(UInt64(number) << 3 | UInt64(wireType))
    }

    /// A varint field.
    static func field(_ number: UInt32, _ value: UInt64) -> [UInt8] {
        key(number, 0) + varint(value)
    }

    /// A length-delimited field (embedded message, bytes, packed repeated).
    static func message(_ number: UInt32, _ body: [UInt8]) -> [UInt8] {
        key(number, 2) + varint(UInt64(body.count)) + body
    }

    static func uint32LE(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xff), UInt8(value >> 8 & 0xff), UInt8(value >> 16 & 0xff), UInt8(value >> 24)]
    }

    /// Two magics, then each entry as a uint32 length and its bytes.
    static func image(magic: UInt32, entries: [[UInt8]]) -> [UInt8] {
        var out = uint32LE(CRIUMagic.common) + uint32LE(magic)
        for entry in entries { out += uint32LE(UInt32(entry.count)) + entry }
        return out
    }

    /// posix_timer_entry fields 1-10 (and 11 when given); `replacing` swaps
    /// the encoding of one field number, `omitting` drops one.
    static func posixTimer(id: UInt64 = 5, clock: UInt64 = 1, signal: UInt64 = 14, notify: UInt64 = 0, sival: UInt64 = 0,
                           overrun: UInt64 = 0, isec: UInt64 = 0, insec: UInt64 = 0, vsec: UInt64 = 0, vnsec: UInt64 = 0,
                           notifyThreadID: Int32? = nil, replacing: [UInt32: [UInt8]] = [:], omitting: UInt32? = nil) -> [UInt8] {
        let values: [UInt64] = [id, clock, signal, notify, sival, overrun, isec, insec, vsec, vnsec]
        var out: [UInt8] = []
        for (index, value) in values.enumerated() {
            let number = UInt32(index + 1)
            if number == omitting { continue }
            out += replacing[number] ?? field(number, value)
        }
        if let notifyThreadID { out += field(11, UInt64(bitPattern: Int64(notifyThreadID))) }
        return out
    }

    /// A leader's core image: core_entry { mtype = 1, tc { timers { posix... } } }.
    static func leaderCore(timers: [[UInt8]]) -> [UInt8] {
        let taskTimers = timers.flatMap { message(4, $0) }
        let coreEntry = field(1, 1) + message(3, field(1, 0) + message(7, taskTimers))
        return image(magic: CRIUMagic.core, entries: [coreEntry])
    }

    static func pstree(pid: UInt64, threads: [UInt64]) -> [UInt8] {
        let entry = field(1, pid) + field(2, 0) + field(3, pid) + field(4, pid) + threads.flatMap { field(5, $0) }
        return image(magic: CRIUMagic.pstree, entries: [entry])
    }
}

final class CRIUWireTests: XCTestCase {
    func reader(_ bytes: [UInt8]) -> ProtobufWireReader {
        ProtobufWireReader(bytes: bytes, range: 0..<bytes.count)
    }

    func testVarints() throws {
        for value: UInt64 in [0, 1, 127, 128, 300, 1 << 32, UInt64(Int64.max), UInt64.max] {
            var r = reader(TestImage.varint(value))
            XCTAssertEqual(try r.readVarint(), value)
            XCTAssertTrue(r.isAtEnd)
        }
        XCTAssertEqual(TestImage.varint(UInt64.max).count, 10)
    }

    func testVarintLongerThanTenBytes() {
        var r = reader([UInt8](repeating: 0xff, count: 10) + [0x01])
        XCTAssertThrowsError(try r.readVarint()) { error in
            XCTAssertEqual(error as? CRIUDecodeError, CRIUDecodeError(offset: 0, "varint longer than 10 bytes"))
        }
    }

    func testTenthByteMayOnlyCarryBit63() {
        var r = reader([UInt8](repeating: 0xff, count: 9) + [0x02])
        XCTAssertThrowsError(try r.readVarint()) { error in
            XCTAssertEqual(error as? CRIUDecodeError, CRIUDecodeError(offset: 0, "varint does not fit in 64 bits"))
        }
    }

    func testVarintCutOff() {
        var r = reader([0x80, 0x80])
        XCTAssertThrowsError(try r.readVarint()) { error in
            XCTAssertEqual(error as? CRIUDecodeError, CRIUDecodeError(offset: 0, "varint cut off by the end of its message"))
        }
    }

    /// Unknown fields of every wire type are skipped as protobuf does.
    func testUnknownFieldsOfEveryWireTypeAreSkipped() throws {
        let bytes = TestImage.key(20, 1) + [UInt8](repeating: 0xaa, count: 8)   // fixed64
            + TestImage.key(21, 5) + [1, 2, 3, 4]                                // fixed32
            + TestImage.message(22, [0xff, 0xff, 0xff])                          // bytes, not parsed
            + TestImage.field(23, UInt64.max)                                    // varint
            + TestImage.field(1, 42)
        var r = reader(bytes)
        var numbers: [UInt32] = []
        var last: ProtobufField?
        while let field = try r.nextField() { numbers.append(field.number); last = field }
        XCTAssertEqual(numbers, [20, 21, 22, 23, 1])
        XCTAssertEqual(try last?.uint32Value("x"), 42)
    }

    func testTimerWithUnknownFieldsDecodes() throws {
        let timer = TestImage.posixTimer(id: 3) + TestImage.key(99, 5) + [0, 0, 0, 0] + TestImage.message(100, [1, 2])
        let checkpoint = try CRIUCheckpointReader.checkpoint(
            directory: "d", files: ["core-1.img": TestImage.leaderCore(timers: [timer])], pid: nil)
        XCTAssertEqual(checkpoint.timers.map(\.id), [3])
    }

    func testNegativeInt32IsATenByteVarint() throws {
        let bytes = TestImage.field(11, UInt64(bitPattern: -5))
        XCTAssertEqual(bytes.count, 11)
        var r = reader(bytes)
        XCTAssertEqual(try r.nextField()?.int32Value("notify_thread_id"), -5)
    }

    func testPackedAndUnpackedPstreeThreads() throws {
        let packed = TestImage.field(1, 10) + TestImage.message(5, TestImage.varint(10) + TestImage.varint(11) + TestImage.varint(300))
        let image = TestImage.image(magic: CRIUMagic.pstree, entries: [packed, TestImage.field(1, 20) + TestImage.field(5, 20)])
        let entries = try CRIUImageDecoder.decodePstree(image)
        XCTAssertEqual(entries, [CRIUPstreeEntry(pid: 10, ppid: 0, threads: [10, 11, 300]),
                                 CRIUPstreeEntry(pid: 20, ppid: 0, threads: [20])])
    }

    /// The fixture's pstree.img, field by field (pid, ppid, pgid, sid, threads).
    func testFixturePstree() throws {
        let entries = try CRIUImageDecoder.decodePstree(CRIUFixture.bytes("pstree.img"))
        XCTAssertEqual(entries, [CRIUPstreeEntry(pid: 10177, ppid: 0, threads: [10177, 10179])])
    }

    func testFixtureThreadCoreHasNoTaskCore() throws {
        XCTAssertFalse(try CRIUImageDecoder.decodeCore(CRIUFixture.bytes("core-10179.img")).hasTaskCore)
        XCTAssertTrue(try CRIUImageDecoder.decodeCore(CRIUFixture.bytes("core-10177.img")).hasTaskCore)
    }

    func testValuesAtTheLimits() throws {
        let timer = TestImage.posixTimer(id: UInt64(Int32.max), clock: UInt64(UInt32.max) - 13, signal: UInt64(UInt32.max),
                                         notify: 1, sival: UInt64.max, overrun: UInt64(Int32.max),
                                         isec: 9_223_372_035, insec: 999_999_999, vsec: 9_223_372_036, vnsec: 854_775_807)
        let checkpoint = try CRIUCheckpointReader.checkpoint(
            directory: "d", files: ["core-1.img": TestImage.leaderCore(timers: [timer])], pid: nil)
        XCTAssertEqual(checkpoint.timers, [
            CheckpointTimer(id: Int32.max, clockID: ClockID(-14), signal: -1, sigevValue: UInt64.max, notify: .none, notifyTarget: 1,
                            valueNanoseconds: Int64.max, intervalNanoseconds: 9_223_372_035_999_999_999, overrun: Int32.max),
        ])
    }
}
