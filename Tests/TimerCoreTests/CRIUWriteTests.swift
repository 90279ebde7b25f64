import Foundation
import TestSupport
import XCTest
import HostKernel
@testable import TimerCore
@testable import TimerFormats
@testable import TimerComparison

/// Builds CRIU images byte by byte for the write tests, independently of the
/// writer under test (its own varint encoder), with unknown fields around the
/// timers so that keeping them, in order, is checked.
enum WriteTestImage {
    static func varint(_ value: UInt64) -> [UInt8] {
        var out: [UInt8] = [], rest = value
        repeat {
            let low = UInt8(rest & 0x7f)
            rest >>= 7
            out.append(rest == 0 ? low : low | 0x80)
        } while rest != 0
        return out
    }
    static func field(_ number: UInt32, _ value: UInt64) -> [UInt8] { varint(UInt64(number) << 3) + varint(value) }
    static func field(_ number: UInt32, message: [UInt8]) -> [UInt8] {
        varint(UInt64(number) << 3 | 2) + varint(UInt64(message.count)) + message
    }
    static func image(_ magic: UInt32, _ entries: [[UInt8]]) -> [UInt8] {
        func le(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        return le(CRIUMagic.common) + le(magic) + entries.flatMap { le(UInt32($0.count)) + $0 }
    }

    static func posixTimer(id: UInt32, clock: Int32 = 1, signal: UInt32 = 14, notify: UInt32 = 0, sival: UInt64 = 0,
                           interval: (UInt64, UInt64) = (0, 0), value: (UInt64, UInt64) = (0, 0), thread: Int32? = nil) -> [UInt8] {
        var bytes = field(1, UInt64(id)) + field(2, UInt64(UInt32(bitPattern: clock))) + field(3, UInt64(signal))
            + field(4, UInt64(notify)) + field(5, sival) + field(6, 0)
            + field(7, interval.0) + field(8, interval.1) + field(9, value.0) + field(10, value.1)
        if let thread { bytes += field(11, UInt64(UInt32(bitPattern: thread))) }
        return bytes
    }

    /// A leader's core image: core_entry { 1 mtype, 3 tc { 1 task_state,
    /// 7 timers { 1 real, 4 posix... }, 20 (unknown) }, 30 (unknown) }.
    static func leaderCore(_ timers: [[UInt8]]) -> [UInt8] {
        let itimer = field(1, 0) + field(2, 0) + field(3, 0) + field(4, 0)
        let timersEntry = field(1, message: itimer) + timers.flatMap { field(4, message: $0) } + field(15, 7)
        let taskCore = field(1, 1) + field(7, message: timersEntry) + field(20, message: Array("kept".utf8))
        return image(CRIUMagic.core, [field(1, 1) + field(3, message: taskCore) + field(30, 99)])
    }
    static func threadCore() -> [UInt8] { image(CRIUMagic.core, [field(1, 1) + field(2, message: field(1, 0))]) }
    static func pstree(_ processes: [(pid: UInt32, ppid: UInt32, threads: [UInt32])]) -> [UInt8] {
        image(CRIUMagic.pstree, processes.map { p in
            field(1, UInt64(p.pid)) + field(2, UInt64(p.ppid)) + field(3, UInt64(p.pid)) + field(4, UInt64(p.pid))
                + p.threads.flatMap { field(5, UInt64($0)) }
        })
    }

    static func write(_ files: [String: [UInt8]], to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, bytes) in files { try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + name)) }
    }
}

/// The fields of one message as they are on the wire: number and raw bytes.
struct WireField: Equatable {
    var number: UInt32
    var raw: [UInt8]
    var payload: Range<Int>
    var value: UInt64
}

func wireFields(_ bytes: [UInt8], _ range: Range<Int>) throws -> [WireField] {
    var reader = ProtobufWireReader(bytes: bytes, range: range)
    var fields: [WireField] = []
    var start = reader.position
    while let field = try reader.nextField() {
        fields.append(WireField(number: field.number, raw: Array(bytes[start..<reader.position]), payload: field.payload, value: field.value))
        start = reader.position
    }
    return fields
}

/// Asserts that `new` is `old` with only the POSIX timers changed: every field
/// of core_entry, tc and tc.timers other than the path to the timers has the
/// same bytes in the same order; timer `i` is kept as it was, left out
/// (`removed`), or has only it_sigev_notify changed to `renotified[i]` and
/// notify_thread_id left out.
func assertOnlyTimersDiffer(_ old: [UInt8], _ new: [UInt8], removed: Set<Int> = [], renotified: [Int: UInt64] = [:],
                            file: StaticString = #filePath, line: UInt = #line) throws {
    XCTAssertEqual(Array(old[0..<8]), Array(new[0..<8]), "magics", file: file, line: line)
    var oldImage = try CRIUImageFile(bytes: old, magic: CRIUMagic.core, kind: "core")
    var newImage = try CRIUImageFile(bytes: new, magic: CRIUMagic.core, kind: "core")
    let oldEntry = try XCTUnwrap(try oldImage.nextEntry(), file: file, line: line)
    let newEntry = try XCTUnwrap(try newImage.nextEntry(), file: file, line: line)
    XCTAssertNil(try oldImage.nextEntry(), "one entry", file: file, line: line)
    XCTAssertNil(try newImage.nextEntry(), "one entry", file: file, line: line)
    XCTAssertEqual(newEntry.upperBound, new.count, "nothing after the entry", file: file, line: line)
    var timerIndex = 0
    func compare(_ oldRange: Range<Int>, _ newRange: Range<Int>, path: [UInt32]) throws {
        let a = try wireFields(old, oldRange), b = try wireFields(new, newRange)
        if path.isEmpty {
            // A posix_timer_entry.
            defer { timerIndex += 1 }
            guard let notify = renotified[timerIndex] else {
                XCTAssertEqual(a.map(\.raw), b.map(\.raw), "timer \(timerIndex) unchanged", file: file, line: line)
                return
            }
            let kept = a.filter { $0.number != 11 }
            XCTAssertEqual(kept.map(\.number), b.map(\.number), "timer \(timerIndex): field order", file: file, line: line)
            for (x, y) in zip(kept, b) {
                if x.number == 4 { XCTAssertEqual(y.value, notify, file: file, line: line) } else {
                    XCTAssertEqual(x.raw, y.raw, "timer \(timerIndex) field \(x.number)", file: file, line: line)
                }
            }
            return
        }
        var j = 0
        for x in a {
            if x.number == path[0], path.count == 1, removed.contains(timerIndex) { timerIndex += 1; continue }
            guard j < b.count else { XCTFail("field \(x.number) missing", file: file, line: line); return }
            let y = b[j]
            j += 1
            XCTAssertEqual(x.number, y.number, "field order", file: file, line: line)
            if x.number == path[0] {
                try compare(x.payload, y.payload, path: Array(path.dropFirst()))
            } else {
                XCTAssertEqual(x.raw, y.raw, "field \(x.number) copied byte for byte", file: file, line: line)
            }
        }
        XCTAssertEqual(j, b.count, "no field added", file: file, line: line)
    }
    try compare(oldEntry, newEntry, path: [3, 7, 4])
}

enum CRIUCase9 {
    /// Tests/Fixtures/criu/timers-case9: CRIU 3.17.1, timer 5 aimed at exited thread 8805.
    static let directory: String = {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()
        url.deleteLastPathComponent()
        return url.appendingPathComponent("Fixtures/criu/timers-case9").path
    }()
    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name)))
    }
}

final class CRIUWriteTests: XCTestCase {
    var scratch = ""

    override func setUpWithError() throws {
        scratch = NSTemporaryDirectory() + "criu-write-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: scratch)
    }

    func testFixAimsTheDeadThreadTimerOfCase9AtNothing() throws {
        let input = try CheckpointSource.load(path: CRIUCase9.directory)
        let edit = try CRIUImageEditor.fix(directory: CRIUCase9.directory, deadThreadNotify: .none)
        XCTAssertEqual(edit.changes, [CRIUTimerChange(pid: 8803, file: "core-8803.img", timerID: 5, deadThread: 8805, notify: .none)])
        XCTAssertEqual(Array(edit.rewrittenFiles.keys), ["core-8803.img"])
        let old = try CRIUCase9.bytes("core-8803.img"), new = try XCTUnwrap(edit.rewrittenFiles["core-8803.img"])
        // Timer 5 is the first entry (creation order 5, 6).
        try assertOnlyTimersDiffer(old, new, renotified: [0: 1])
        XCTAssertEqual(new.count, old.count - 3, "notify_thread_id 8805 was 3 bytes")

        var files = ["pstree.img": try CRIUCase9.bytes("pstree.img")]
        files["core-8803.img"] = new
        let output = try CRIUCheckpointReader.checkpoint(directory: "out", files: files, pid: nil)
        var expected = input.timers
        expected[0].notify = .none
        expected[0].notifyTarget = 8803
        expected[0].notifyTargetExited = false
        XCTAssertEqual(output.timers, expected)
        XCTAssertEqual(output.warnings, [], "nothing left that CRIU cannot restore")
    }

    func testFixWithProcessPolicySignalsTheProcess() throws {
        let edit = try CRIUImageEditor.fix(directory: CRIUCase9.directory, deadThreadNotify: .process)
        let new = try XCTUnwrap(edit.rewrittenFiles["core-8803.img"])
        try assertOnlyTimersDiffer(try CRIUCase9.bytes("core-8803.img"), new, renotified: [0: 0])
        let core = try CRIUImageDecoder.decodeCore(new)
        XCTAssertEqual(core.posixTimers.map(\.itSigevNotify), [0, 0])
        XCTAssertEqual(core.posixTimers.map(\.notifyThreadID), [nil, nil])
        XCTAssertEqual(core.posixTimers.map(\.siSigno), [44, 14], "the signal is kept")
    }

    func testFixLeavesARestorableCheckpointAlone() throws {
        let edit = try CRIUImageEditor.fix(directory: CRIUFixture.directory, deadThreadNotify: .none)
        XCTAssertEqual(edit.changes, [])
        XCTAssertEqual(edit.rewrittenFiles.count, 0)
    }

    func testStripTakesEveryTimerOutOfCase1AndKeepsThemWithValues() throws {
        let input = try CheckpointSource.load(path: CRIUFixture.directory)
        let edit = try CRIUImageEditor.strip(directory: CRIUFixture.directory)
        XCTAssertEqual(Array(edit.rewrittenFiles.keys), ["core-10177.img"], "the thread's core image has no timers")
        let new = try XCTUnwrap(edit.rewrittenFiles["core-10177.img"])
        try assertOnlyTimersDiffer(try CRIUFixture.bytes("core-10177.img"), new, removed: Set(0..<5))
        XCTAssertEqual(try CRIUImageDecoder.decodeCore(new).posixTimers, [])
        let json = try XCTUnwrap(edit.addedFiles[CRIUImageEditor.timersFileName])
        let stripped = try Checkpoint(json: json)
        XCTAssertEqual(stripped.pid, input.pid)
        XCTAssertEqual(stripped.threads, input.threads)
        XCTAssertEqual(stripped.timers, input.timers)
        XCTAssertNil(stripped.itimers, "CRIU restores the interval timers itself")
        XCTAssertNil(stripped.timerFDs, "CRIU restores the timerfds itself")
        XCTAssertEqual(stripped.timers, CRIUFixture.expectedTimers)
    }

    /// A tree of two processes built here, with a timer at ID 3,000,000 and
    /// unknown fields around the timers.
    func constructedTree(childClock: Int32 = ClockID.cpuClock(pid: 100, perThread: false, type: .sched).rawValue) -> [String: [UInt8]] {
        [
            "pstree.img": WriteTestImage.pstree([(100, 1, [100, 101]), (200, 100, [200])]),
            "core-100.img": WriteTestImage.leaderCore([
                WriteTestImage.posixTimer(id: 3_000_000, clock: 1, signal: 14, sival: 0xabc, interval: (1, 0), value: (42, 5)),
                WriteTestImage.posixTimer(id: 7, clock: 0, signal: 40, notify: 4, value: (3, 0), thread: 101),
            ]),
            "core-101.img": WriteTestImage.threadCore(),
            "core-200.img": WriteTestImage.leaderCore([WriteTestImage.posixTimer(id: 5, clock: childClock, signal: 12, value: (0, 999))]),
        ]
    }

    func testStripOfAConstructedTreeWithATimerAtID3000000() throws {
        let files = constructedTree()
        let directory = scratch + "/in"
        try WriteTestImage.write(files, to: directory)
        let edit = try CRIUImageEditor.strip(directory: directory)
        XCTAssertEqual(edit.rewrittenFiles.keys.sorted(), ["core-100.img", "core-200.img"])
        try assertOnlyTimersDiffer(files["core-100.img"]!, edit.rewrittenFiles["core-100.img"]!, removed: [0, 1])
        try assertOnlyTimersDiffer(files["core-200.img"]!, edit.rewrittenFiles["core-200.img"]!, removed: [0])

        let json = try XCTUnwrap(edit.addedFiles[CRIUImageEditor.timersFileName])
        XCTAssertTrue(CheckpointTree.isInspectJSON(json))
        let tree = try CheckpointTree(inspectJSON: json)
        XCTAssertEqual(tree.index.root, 100)
        XCTAssertEqual(tree.index.processes.map(\.pid), [100, 200])
        XCTAssertEqual(tree.index.processes.map(\.ppid), [1, 100])
        XCTAssertEqual(tree.checkpoints[0].timers, [
            CheckpointTimer(id: 7, clockID: .realtime, signal: 40, sigevValue: 0, notify: .threadID, notifyTarget: 101,
                            valueNanoseconds: 3_000_000_000, intervalNanoseconds: 0, overrun: 0),
            CheckpointTimer(id: 3_000_000, clockID: .monotonic, signal: 14, sigevValue: 0xabc, notify: .signal, notifyTarget: 100,
                            valueNanoseconds: 42_000_000_005, intervalNanoseconds: 1_000_000_000, overrun: 0),
        ])
        XCTAssertEqual(tree.checkpoints[1].timers.map(\.id), [5])
        XCTAssertEqual(tree.checkpoints[1].timers[0].clockID, ClockID.cpuClock(pid: 100, perThread: false, type: .sched))
        XCTAssertEqual(tree.checkpoints[1].timers[0].valueNanoseconds, 999)
    }

    func testACPUClockOfATaskOutsideTheCheckpointIsRefused() throws {
        let directory = scratch + "/in"
        try WriteTestImage.write(constructedTree(childClock: ClockID.cpuClock(pid: 4242, perThread: false, type: .sched).rawValue), to: directory)
        for run in [{ try CRIUImageEditor.fix(directory: directory, deadThreadNotify: .none) },
                    { try CRIUImageEditor.strip(directory: directory) }] {
            XCTAssertThrowsError(try run()) { error in
                let text = "\(error)"
                XCTAssertTrue(text.hasPrefix(directory + "/core-200.img: byte "), text)
                XCTAssertTrue(text.hasSuffix("timer 5: clock cpu:pid=4242:sched (-33942) counts task 4242, which is not a process or thread of the checkpoint (pstree.img): no restore can give it that task"), text)
            }
        }
    }

    func testAThreadClockOfAnotherProcessIsRefused() throws {
        let directory = scratch + "/in"
        try WriteTestImage.write(constructedTree(childClock: ClockID.cpuClock(pid: 101, perThread: true, type: .sched).rawValue), to: directory)
        XCTAssertThrowsError(try CRIUImageEditor.fix(directory: directory, deadThreadNotify: .none)) { error in
            XCTAssertTrue("\(error)".hasSuffix("counts thread 101 of process 100: a thread CPU clock must count a thread of process 200 itself"), "\(error)")
        }
    }

    /// Every corruption inspect refuses is refused by fix and strip with the same line.
    func testCorruptImagesAreRefusedAsInspectRefusesThem() throws {
        let original = try CRIUCase9.bytes("core-8803.img")
        var badMagic = original
        badMagic[0] ^= 1
        var badLength = original
        badLength[8] = 0xff
        badLength[9] = 0x7f
        var cutTimer = original
        if let at = Self.range(of: WriteTestImage.field(9, 299), in: original) { cutTimer[at.lowerBound] = 0xff }
        let cases: [(String, [UInt8])] = [
            ("truncated", Array(original.prefix(1000))), ("cut in the length", Array(original.prefix(10))),
            ("magic", badMagic), ("length", badLength), ("field", cutTimer), ("empty", []),
        ]
        for (name, bytes) in cases {
            let directory = scratch + "/" + name.replacingOccurrences(of: " ", with: "-")
            var files = ["pstree.img": try CRIUCase9.bytes("pstree.img"), "core-8803.img": bytes]
            files["inventory.img"] = try CRIUCase9.bytes("inventory.img")
            try WriteTestImage.write(files, to: directory)
            var inspectError = ""
            XCTAssertThrowsError(try CheckpointSource.load(path: directory), name) { inspectError = "\($0)" }
            XCTAssertThrowsError(try CRIUImageEditor.fix(directory: directory, deadThreadNotify: .none), name) {
                XCTAssertEqual("\($0)", inspectError, name)
            }
            XCTAssertThrowsError(try CRIUImageEditor.strip(directory: directory), name) {
                XCTAssertEqual("\($0)", inspectError, name)
            }
        }
    }

    /// 3,000 corrupted copies of case9's core image: fix and strip throw or
    /// write an image that reads back as meant (the editor checks that), and
    /// never trap.
    func testCorruptedCoreImagesAreRefusedOrRewrittenNeverTrap() throws {
        let original = try CRIUCase9.bytes("core-8803.img"), pstree = try CRIUCase9.bytes("pstree.img")
        var generator = SplitMix(seed: 16)
        var rewritten = 0, refused = 0
        for _ in 0..<3_000 {
            var bytes = original
            for _ in 0..<(1 + Int(generator.next() % 3)) {
                let at = 8 + Int(generator.next() % UInt64(bytes.count - 8))
                bytes[at] = UInt8(truncatingIfNeeded: generator.next())
            }
            let files = ["pstree.img": pstree, "core-8803.img": bytes]
            for strip in [false, true] {
                do {
                    let edit = try CRIUImageEditor.edit(directory: "d", files: files) { timer throws(CheckpointError) in
                        strip ? .remove : (timer.notifyTargetExited ? .renotify(1) : .keep)
                    }
                    rewritten += edit.rewrittenFiles.count
                } catch {
                    refused += 1
                }
            }
        }
        XCTAssertGreaterThan(rewritten, 0)
        XCTAssertGreaterThan(refused, 0)
    }

    static func range(of needle: [UInt8], in bytes: [UInt8]) -> Range<Int>? {
        guard needle.count <= bytes.count else { return nil }
        for start in 0...(bytes.count - needle.count) where Array(bytes[start..<start + needle.count]) == needle {
            return start..<start + needle.count
        }
        return nil
    }

    // MARK: the directory copy

    func testTheCopyIsByteForByteExceptTheRewrittenCoreImage() throws {
        let output = scratch + "/fixed"
        let edit = try CRIUImageEditor.fix(directory: CRIUCase9.directory, deadThreadNotify: .none)
        let entries = try CRIUImageDirectoryListing.sourceEntries(CRIUCase9.directory)
        try CRIUImageDirectoryWriter.write(edit, entries: entries, to: output)
        let names = try FileManager.default.contentsOfDirectory(atPath: CRIUCase9.directory).sorted()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: output).sorted(), names)
        for name in names {
            let copied = [UInt8](try Data(contentsOf: URL(fileURLWithPath: output + "/" + name)))
            XCTAssertEqual(copied, try edit.rewrittenFiles[name] ?? CRIUCase9.bytes(name), name)
            let a = try FileManager.default.attributesOfItem(atPath: CRIUCase9.directory + "/" + name)
            let b = try FileManager.default.attributesOfItem(atPath: output + "/" + name)
            XCTAssertEqual(a[.posixPermissions] as? Int, b[.posixPermissions] as? Int, name)
        }
        let reread = try CheckpointSource.load(path: output)
        XCTAssertEqual(reread.timers.map(\.notify), [.none, .signal])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch), ["fixed"], "no temporary directory left")
    }

    func testAnOutputThatIsNotAnEmptyDirectoryIsNeverReplaced() throws {
        let edit = try CRIUImageEditor.fix(directory: CRIUCase9.directory, deadThreadNotify: .none)
        let entries = try CRIUImageDirectoryListing.sourceEntries(CRIUCase9.directory)
        let full = scratch + "/full", file = scratch + "/file", link = scratch + "/link", empty = scratch + "/empty"
        try WriteTestImage.write(["mine": [1, 2, 3]], to: full)
        try Data([7]).write(to: URL(fileURLWithPath: file))
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: empty)
        for (path, problem) in [(full, "the directory exists and is not empty (it is never overwritten)"),
                                (file, "it exists and is a regular file (never replaced)")] {
            XCTAssertThrowsError(try CRIUImageDirectoryWriter.write(edit, entries: entries, to: path)) {
                XCTAssertEqual("\($0)", "cannot write \(path): \(problem)")
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: full), ["mine"])
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), empty)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: file)), Data([7]))
        // A symlink to an empty directory is written through (as a tree is):
        // the link stays a link, the directory it names gets the copy.
        try CRIUImageDirectoryWriter.write(edit, entries: entries, to: link)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), empty)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: empty).count, entries.count)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch).sorted(), ["empty", "file", "full", "link"])
    }

    func testAnInputWithAFIFOIsRefusedBeforeAnythingIsWritten() throws {
        let directory = scratch + "/in"
        try WriteTestImage.write(constructedTree(), to: directory)
        XCTAssertEqual(mkfifo(directory + "/pipe", 0o600), 0)
        XCTAssertThrowsError(try CRIUImageDirectoryListing.sourceEntries(directory)) {
            XCTAssertEqual("\($0)", directory + "/pipe: a FIFO, not a file: an image directory holds regular files (and CRIU's parent symlink) only")
        }
    }

    func testStripRefusesADirectoryThatAlreadyHasTimerCriuJSON() throws {
        let directory = scratch + "/in"
        var files = constructedTree()
        files[CRIUImageEditor.timersFileName] = Array("{}".utf8)
        try WriteTestImage.write(files, to: directory)
        let edit = try CRIUImageEditor.strip(directory: directory)
        XCTAssertThrowsError(try CRIUImageDirectoryWriter.write(edit, entries: try CRIUImageDirectoryListing.sourceEntries(directory),
                                                                to: scratch + "/out")) {
            XCTAssertEqual("\($0)", "cannot write \(self.scratch)/out: \(directory) already has a timer-criu.json (was it written by timer-criu before?)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/out"))
    }
}

/// A small deterministic generator (SplitMix64), so a failure can be replayed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
