import Foundation
import TestSupport
import XCTest
@testable import TimerCore
@testable import TimerFormats

/// The layout before files.img: timerfd.img (TIMERFD_MAGIC 0x50493712, CRIU's
/// criu/include/magic.h), one `timerfd_entry` (images/timerfd.proto) per
/// entry, joined to fds by the same fdinfo image. Built by hand from the
/// timers-case8 fixture (CRIU 3.17.1): its files.img replaced by a
/// timerfd.img holding the same three entries must read the same.
final class CRIULegacyTimerFDTests: XCTestCase {
    static let directory = BuiltProducts.repositoryRoot + "/Tests/Fixtures/criu/timers-case8"

    /// Every .img of the fixture, files.img left out.
    func fixtureWithoutFilesImage() throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: Self.directory) where name.hasSuffix(".img") && name != "files.img" {
            files[name] = Array(try Data(contentsOf: URL(fileURLWithPath: Self.directory + "/" + name)))
        }
        return files
    }

    /// timerfd_entry fields 1-10 (fown 3 an empty-valued fown_entry); `omitting` drops one.
    static func entry(id: UInt64, flags: UInt64, clock: UInt64, ticks: UInt64 = 0, settime: UInt64, vsec: UInt64, vnsec: UInt64,
                      isec: UInt64, insec: UInt64, omitting: UInt32? = nil) -> [UInt8] {
        let fown = (1...5).flatMap { TestImage.field(UInt32($0), 0) }
        let fields: [(UInt32, [UInt8])] = [
            (1, TestImage.field(1, id)), (2, TestImage.field(2, flags)), (3, TestImage.message(3, fown)),
            (4, TestImage.field(4, clock)), (5, TestImage.field(5, ticks)), (6, TestImage.field(6, settime)),
            (7, TestImage.field(7, vsec)), (8, TestImage.field(8, vnsec)), (9, TestImage.field(9, isec)), (10, TestImage.field(10, insec)),
        ]
        return fields.filter { $0.0 != omitting }.flatMap(\.1)
    }

    /// The fixture's files.json `tfd`s: ids 6, 7, 8.
    static let case8Entries = [
        entry(id: 6, flags: 0x2, clock: 0, settime: 0, vsec: 59, vnsec: 617_588_361, isec: 2, insec: 0),
        entry(id: 7, flags: 0x2, clock: 7, settime: 1, vsec: 499, vnsec: 617_563_184, isec: 0, insec: 0),
        entry(id: 8, flags: 0x802, clock: 1, settime: 0, vsec: 39, vnsec: 617_536_043, isec: 0, insec: 0),
    ]

    func error(_ files: [String: [UInt8]], file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            let checkpoint = try CRIUCheckpointReader.checkpoint(directory: "d", files: files, pid: nil)
            XCTFail("decoded instead of failing: \(checkpoint)", file: file, line: line)
            return ""
        } catch {
            return error.description
        }
    }

    func testALegacyTimerFDImageReadsAsFilesImgDoes() throws {
        let modern = try CheckpointSource.load(path: Self.directory)
        var files = try fixtureWithoutFilesImage()
        files["timerfd.img"] = TestImage.image(magic: CRIUMagic.timerfd, entries: Self.case8Entries)
        let legacy = try CRIUCheckpointReader.checkpoint(directory: "d", files: files, pid: nil)
        XCTAssertEqual(legacy.timerFDs?.map(\.fd), [5, 9, 30])
        XCTAssertEqual(legacy.timerFDs, modern.timerFDs)
        XCTAssertEqual(legacy.warnings, modern.warnings)
        XCTAssertEqual(legacy.itimers, modern.itimers)
    }

    func testALegacyImageIsReadStrictly() throws {
        var files = try fixtureWithoutFilesImage()
        // Another image's magic.
        files["timerfd.img"] = TestImage.image(magic: CRIUMagic.files, entries: Self.case8Entries)
        XCTAssertEqual(error(files), "d/timerfd.img: byte 4: magic 0x56303138 is not the timerfd image magic 0x50493712")
        // One file id twice.
        files["timerfd.img"] = TestImage.image(magic: CRIUMagic.timerfd, entries: Self.case8Entries + [Self.case8Entries[0]])
        XCTAssertTrue(error(files).hasPrefix("d/timerfd.img: byte "), error(files))
        XCTAssertTrue(error(files).hasSuffix(": timerfd_entry id 6 appears twice"), error(files))
        // A required field missing (vnsec).
        files["timerfd.img"] = TestImage.image(magic: CRIUMagic.timerfd, entries: [
            Self.entry(id: 6, flags: 2, clock: 0, settime: 0, vsec: 59, vnsec: 1, isec: 2, insec: 0, omitting: 8)] + Self.case8Entries.dropFirst())
        XCTAssertTrue(error(files).hasSuffix("timerfd_entry without one of its required fields 1, 2, 4-10"), error(files))
        // An fd whose file id neither image has.
        files["timerfd.img"] = TestImage.image(magic: CRIUMagic.timerfd, entries: Array(Self.case8Entries.prefix(2)))
        XCTAssertEqual(error(files), "d/fdinfo-2.img: fd 30 is a TIMERFD with file id 8, which timerfd.img does not have")
        // Both layouts naming one file id.
        files["timerfd.img"] = TestImage.image(magic: CRIUMagic.timerfd, entries: Self.case8Entries)
        files["files.img"] = Array(try Data(contentsOf: URL(fileURLWithPath: Self.directory + "/files.img")))
        XCTAssertEqual(error(files), "d/timerfd.img: timerfd file id 6 is in files.img too: the two layouts disagree on what file 6 is")
    }

    /// Every prefix and every byte set to telling values: decoded, or one
    /// line naming the image (never a trap).
    func testEveryCorruptionOfTheLegacyImageDecodesOrIsRefusedInOneLine() throws {
        var files = try fixtureWithoutFilesImage()
        let image = TestImage.image(magic: CRIUMagic.timerfd, entries: Self.case8Entries)
        var refused = 0
        func check(_ bytes: [UInt8], _ what: String) {
            files["timerfd.img"] = bytes
            do {
                let checkpoint = try CRIUCheckpointReader.checkpoint(directory: "d", files: files, pid: nil)
                for timerFD in checkpoint.timerFDs ?? [] {
                    XCTAssertGreaterThanOrEqual(timerFD.valueNanoseconds, 0, what)
                    XCTAssertGreaterThanOrEqual(timerFD.intervalNanoseconds, 0, what)
                }
            } catch {
                refused += 1
                XCTAssertTrue(error.description.hasPrefix("d/timerfd.img: ") || error.description.hasPrefix("d/fdinfo-2.img: "),
                              "\(what): \(error)")
                XCTAssertFalse(error.description.contains("\n"), what)
            }
        }
        for length in 0..<image.count { check(Array(image.prefix(length)), "prefix \(length)") }
        for position in image.indices {
            for value: UInt8 in [0x00, 0x01, 0x7f, 0x80, 0xff] {
                var bytes = image
                bytes[position] = value
                check(bytes, "byte \(position) = \(value)")
            }
        }
        XCTAssertGreaterThan(refused, image.count, "every truncation at least is refused")
    }
}
