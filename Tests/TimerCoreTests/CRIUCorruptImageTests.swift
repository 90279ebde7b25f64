import Foundation
import XCTest
import HostKernel
@testable import TimerCore
@testable import TimerFormats
@testable import TimerComparison

/// Bad images: each is refused with one CheckpointError naming the file and,
/// for bad bytes, the byte offset. Offsets in the fixture were read from its
/// bytes (core-10177.img: core_entry at 12, tc at 1150, timers at 1176, the
/// posix_timer_entry of timer 0 at 1209 with it_id's key at 1211, timer 7's at 1236).
final class CRIUCorruptImageTests: XCTestCase {
    /// Decodes the fixture with `core-10177.img` changed by `change`; returns the error text.
    func fixtureError(_ change: (inout [UInt8]) -> Void, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        var files = try CRIUFixture.images()
        change(&files["core-10177.img"]!)
        return try error(files, file: file, line: line)
    }

    func error(_ files: [String: [UInt8]], pid: Int32? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        do {
            let checkpoint = try CRIUCheckpointReader.checkpoint(directory: "d", files: files, pid: pid)
            XCTFail("decoded instead of failing: \(checkpoint)", file: file, line: line)
            return ""
        } catch {
            return error.description
        }
    }

    /// A directory holding only a leader core image with these timers. Offsets
    /// in it: 8 magic + 4 length; core_entry: mtype 12-13, tc key 14, length 15;
    /// tc: 16-17, timers key 18, length 19; posix key 20, length 21; then the
    /// timer's fields, 2 bytes each while values are below 128: field N's key at
    /// 22 + 2(N-1), so it_id at 22 ... vnsec at 40, and the entry ends at 42.
    func timersError(_ timers: [[UInt8]], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try error(["core-1.img": TestImage.leaderCore(timers: timers)], file: file, line: line)
    }

    // MARK: framing

    func testWrongCommonMagic() throws {
        XCTAssertEqual(try fixtureError { $0[0] ^= 1 },
                       "d/core-10177.img: byte 0: magic 0x54564318 is not IMG_COMMON_MAGIC 0x54564319: not a CRIU image")
    }

    func testWrongImageMagic() throws {
        let pstreeInCoresPlace = try CRIUFixture.bytes("pstree.img")
        XCTAssertEqual(try fixtureError { $0 = pstreeInCoresPlace },
                       "d/core-10177.img: byte 4: magic 0x50273030 is not the core image magic 0x55053847")
        var files = try CRIUFixture.images()
        files["pstree.img"] = try CRIUFixture.bytes("core-10179.img")
        XCTAssertEqual(try error(files), "d/pstree.img: byte 4: magic 0x55053847 is not the pstree image magic 0x50273030")
    }

    func testShorterThanTheMagics() throws {
        XCTAssertEqual(try fixtureError { $0 = Array($0.prefix(5)) },
                       "d/core-10177.img: byte 0: 5 bytes is too short for a CRIU image (8 bytes of magic come first)")
    }

    func testTruncatedEntryLength() throws {
        XCTAssertEqual(try fixtureError { $0 = Array($0.prefix(10)) },
                       "d/core-10177.img: byte 8: truncated entry: 2 bytes left, an entry starts with a 4-byte length")
    }

    func testEntryLengthPastTheEndOfTheFile() throws {
        XCTAssertEqual(try fixtureError { $0 = Array($0.prefix(2000)) },
                       "d/core-10177.img: byte 8: entry of 2559 bytes runs past the end of the file (1988 bytes left)")
    }

    func testNoEntryAndTwoEntries() throws {
        XCTAssertEqual(try fixtureError { $0 = Array($0.prefix(8)) }, "d/core-10177.img: byte 8: no core_entry after the magics")
        XCTAssertEqual(try fixtureError { $0 += [1, 0, 0, 0, 0x08] },
                       "d/core-10177.img: byte 2571: a core image holds one core_entry, this one has 2")
        var files = try CRIUFixture.images()
        files["pstree.img"] = TestImage.image(magic: CRIUMagic.pstree, entries: [])
        XCTAssertEqual(try error(files), "d/pstree.img: byte 8: no pstree_entry after the magics")
    }

    // MARK: protobuf wire format

    func testVarintLongerThanTenBytesInTheFixture() throws {
        // it_id of timer 0: key at 1211, value at 1212 (inside its 25-byte entry).
        XCTAssertEqual(try fixtureError { $0.replaceSubrange(1212..<1223, with: [UInt8](repeating: 0xff, count: 11)) },
                       "d/core-10177.img: byte 1212: varint longer than 10 bytes")
    }

    func testVarintLongerThanTenBytes() throws {
        // 8 magic + 4 length; core_entry: mtype 12-13, tc key 14, length 15; tc: 16-17, timers key 18,
        // length 19; posix key 20, length 21; it_id key 22, its value at 23.
        let timer = TestImage.posixTimer(replacing: [1: TestImage.key(1, 0) + [UInt8](repeating: 0x80, count: 10) + [0]])
        XCTAssertEqual(try timersError([timer]), "d/core-1.img: byte 23: varint longer than 10 bytes")
    }

    func testSubmessageLengthPastTheEndOfItsMessage() throws {
        // tc's length (1304, two bytes at 1151) made larger than what is left of
        // core_entry after it (it ends at 12 + 2559 = 2571: 1418 bytes from 1153).
        XCTAssertEqual(try fixtureError { $0.replaceSubrange(1151..<1153, with: TestImage.varint(1500)) },
                       "d/core-10177.img: byte 1151: field 3: length 1500 runs past the end of its message (1418 bytes left)")
    }

    func testGroupsFieldZeroAndBadWireTypes() throws {
        XCTAssertEqual(try timersError([TestImage.posixTimer() + TestImage.key(12, 3)]),
                       "d/core-1.img: byte 42: field 12: wire type 3 (group) is not used by CRIU images")
        XCTAssertEqual(try timersError([TestImage.posixTimer() + TestImage.key(12, 6)]),
                       "d/core-1.img: byte 42: field 12: wire type 6 does not exist")
        XCTAssertEqual(try timersError([TestImage.posixTimer() + [0x00, 0x00]]),
                       "d/core-1.img: byte 42: field number 0 is not valid protobuf")
        XCTAssertEqual(try timersError([TestImage.posixTimer() + TestImage.key(12, 1) + [1, 2, 3]]),
                       "d/core-1.img: byte 43: field 12: 8-byte value cut off by the end of its message (3 bytes left)")
    }

    func testMessageFieldWithTheWrongWireType() throws {
        let core = TestImage.image(magic: CRIUMagic.core, entries: [TestImage.field(1, 1) + TestImage.field(3, 7)])
        XCTAssertEqual(try error(["core-1.img": core]),
                       "d/core-1.img: byte 14: core_entry.tc (field 3): wire type 0, expected a message (2)")
    }

    // MARK: values

    func testNanosecondsOfOneSecondOrMore() throws {
        XCTAssertEqual(try timersError([TestImage.posixTimer(insec: 1_000_000_000)]),
                       "d/core-1.img: byte 36: insec 1000000000 is not below 1000000000")
        XCTAssertEqual(try timersError([TestImage.posixTimer(vnsec: 999_999_999 + 1)]),
                       "d/core-1.img: byte 40: vnsec 1000000000 is not below 1000000000")
    }

    func testTimesThatDoNotFitInt64Nanoseconds() throws {
        XCTAssertEqual(try timersError([TestImage.posixTimer(vsec: 9_223_372_037)]),
                       "d/core-1.img: byte 38: value (vsec, vnsec): 9223372037 s does not fit in 64-bit nanoseconds")
        XCTAssertEqual(try timersError([TestImage.posixTimer(isec: 9_223_372_036, insec: 854_775_808)]),
                       "d/core-1.img: byte 34: interval (isec, insec): 9223372036 s does not fit in 64-bit nanoseconds")
        XCTAssertEqual(try timersError([TestImage.posixTimer(vsec: UInt64.max)]),
                       "d/core-1.img: byte 38: value (vsec, vnsec): 18446744073709551615 s does not fit in 64-bit nanoseconds")
    }

    func testValuesThatDoNotFitTheirTypes() throws {
        XCTAssertEqual(try timersError([TestImage.posixTimer(clock: 1 << 32)]),
                       "d/core-1.img: byte 24: clock_id 4294967296 does not fit in uint32")
        XCTAssertEqual(try timersError([TestImage.posixTimer(id: 1 << 31)]),
                       "d/core-1.img: byte 22: it_id 2147483648 is outside 0...2147483647")
        XCTAssertEqual(try timersError([TestImage.posixTimer(overrun: 1 << 31)]),
                       "d/core-1.img: byte 32: timer 5: overrun 2147483648 is more than INT_MAX")
        XCTAssertEqual(try timersError([TestImage.posixTimer(notify: 4) + TestImage.field(11, 1 << 31)]),
                       "d/core-1.img: byte 42: notify_thread_id 2147483648 does not fit in int32")
    }

    func testNotifyThreadIDThatIsNotAThreadID() throws {
        XCTAssertEqual(try timersError([TestImage.posixTimer(notify: 4, notifyThreadID: -5)]),
                       "d/core-1.img: byte 42: timer 5: notify_thread_id -5 is not a thread id")
    }

    func testBadNotify() throws {
        XCTAssertEqual(try fixtureError { $0[1218] = 3 },
                       "d/core-10177.img: byte 1217: timer 0: it_sigev_notify 3 is not 0 (signal), 1 (none), 2 (thread) or 4 (thread id)")
        XCTAssertEqual(try fixtureError { $0[1218] = 4 },
                       "d/core-10177.img: byte 1217: timer 0: it_sigev_notify 4 (thread id) without notify_thread_id")
    }

    func testMissingRequiredField() throws {
        XCTAssertEqual(try timersError([TestImage.posixTimer(omitting: 2)]),
                       "d/core-1.img: byte 20: posix_timer_entry without its required field 2 (clock_id)")
    }

    func testDuplicateTimerID() throws {
        // Timer 7's it_id value (at 1239) becomes 0, timer 0's.
        XCTAssertEqual(try fixtureError { $0[1239] = 0 }, "d/core-10177.img: byte 1238: timer id 0 appears twice")
    }

    // MARK: files

    func testMissingCoreFile() throws {
        var files = try CRIUFixture.images()
        files["core-10177.img"] = nil
        XCTAssertEqual(try error(files), "d/core-10177.img: missing core file")
        XCTAssertEqual(try error(["pstree.img": TestImage.pstree(pid: 1, threads: [1])], pid: nil), "d/core-1.img: missing core file")
    }

    func testNoImagesAtAll() throws {
        XCTAssertEqual(try error([:]), "d: no core-PID.img and no pstree.img: not a CRIU image directory")
    }

    func testTwoLeadersWithoutPstree() throws {
        let files = ["core-1.img": TestImage.leaderCore(timers: []), "core-2.img": TestImage.leaderCore(timers: [])]
        XCTAssertEqual(try error(files),
                       "d: no pstree.img, and 2 core images are thread-group leaders (1, 2): pass one core-PID.img")
        // Naming one of them picks it.
        XCTAssertEqual(try CRIUCheckpointReader.checkpoint(directory: "d", files: files, pid: 2).pid, 2)
    }

    /// The same refusals through the file system, as commands see them.
    func testOnDisk() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("criu-corrupt-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        try Data(CRIUFixture.bytes("pstree.img")).write(to: URL(fileURLWithPath: directory + "/pstree.img"))
        XCTAssertThrowsError(try CheckpointSource.load(path: directory)) { error in
            XCTAssertEqual("\(error)", "\(directory)/core-10177.img: missing core file")
        }
        XCTAssertThrowsError(try CheckpointSource.load(path: directory + "/core-10177.img")) { error in
            XCTAssertEqual("\(error)", "\(directory)/core-10177.img: missing core file: ENOENT: No such file or directory")
        }
        var core = try CRIUFixture.bytes("core-10177.img")
        core.removeLast(100)
        try Data(core).write(to: URL(fileURLWithPath: directory + "/core-10177.img"))
        XCTAssertThrowsError(try CheckpointSource.load(path: directory)) { error in
            XCTAssertEqual("\(error)", "\(directory)/core-10177.img: byte 8: entry of 2559 bytes runs past the end of the file (2459 bytes left)")
        }
        XCTAssertThrowsError(try CheckpointSource.load(path: directory + "/core.img")) { error in
            XCTAssertEqual("\(error)", "\(directory)/core.img: not a CRIU core image name: expected core-PID.img")
        }
        XCTAssertThrowsError(try CheckpointSource.load(path: "/nonexistent-criu-dir/")) { error in
            XCTAssertTrue("\(error)".hasPrefix("/nonexistent-criu-dir/"), "\(error)")
        }
    }
}
