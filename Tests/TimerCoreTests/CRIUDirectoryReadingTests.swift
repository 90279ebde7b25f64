import Foundation
import TestSupport
import XCTest
import HostKernel
@testable import TimerCore
@testable import TimerFormats
@testable import TimerComparison

/// A CRIU directory is read the way pstree.img says,
/// lazily and within a budget; no file type makes the reader block; thread
/// handling is linear.
final class CRIUDirectoryReadingTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "tc-criu-reading-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func write(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + name))
    }

    /// A file of `size` bytes starting with `head`, the rest a hole (no disk used).
    func sparse(_ name: String, head: [UInt8], size: Int) throws {
        try write(name, head)
        guard truncate(directory + "/" + name, off_t(size)) == 0 else { throw TestSupportError("truncate: errno \(errno)") }
    }

    /// A thread's core image (no tc) of exactly `size` bytes: one core_entry
    /// holding one unknown length-delimited field (2) that covers the rest.
    func bigThreadCore(_ name: String, size: Int) throws {
        let fieldKey: [UInt8] = [0x12]
        // entry = key + varint(payload) + payload; lengths fixed at 4-byte varints.
        let payload = size - 8 - 4 - fieldKey.count - 4
        func varint4(_ v: Int) -> [UInt8] {
            [UInt8(v & 0x7f) | 0x80, UInt8(v >> 7 & 0x7f) | 0x80, UInt8(v >> 14 & 0x7f) | 0x80, UInt8(v >> 21 & 0x7f)]
        }
        let entryLength = fieldKey.count + 4 + payload
        let head = TestImage.uint32LE(CRIUMagic.common) + TestImage.uint32LE(CRIUMagic.core)
            + TestImage.uint32LE(UInt32(entryLength)) + fieldKey + varint4(payload)
        try sparse(name, head: head, size: size)
    }

    /// Images pstree.img does not name are never opened: a FIFO (which blocked
    /// open() for ever), a dangling symlink and a 64 MiB image beside them.
    func testImagesPstreeDoesNotNameAreNotRead() throws {
        try write("pstree.img", TestImage.pstree(pid: 10, threads: [10]))
        try write("core-10.img", TestImage.leaderCore(timers: [TestImage.posixTimer(id: 3)]))
        guard mkfifo(directory + "/core-11.img", 0o644) == 0 else { throw TestSupportError("mkfifo: errno \(errno)") }
        try FileManager.default.createSymbolicLink(atPath: directory + "/core-12.img", withDestinationPath: "/nonexistent/x")
        try sparse("core-13.img", head: TestImage.uint32LE(CRIUMagic.common) + TestImage.uint32LE(CRIUMagic.core),
                   size: 64 << 20)
        let result = try runCommand(try BuiltProducts.path("timer-criu"), ["inspect", directory], timeout: 60)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdoutText.contains("pid 10"), result.stdoutText)

        // The same through the pure reader: only pstree.img and core-10.img are asked for.
        final class Recorder: CRIUCheckpointReader.ImageFiles {
            let inner: CRIUCheckpointReader.DirectoryImages<HostInputFiles>
            var asked: [String] = []
            init(_ inner: CRIUCheckpointReader.DirectoryImages<HostInputFiles>) { self.inner = inner }
            var hasPstree: Bool { inner.hasPstree }
            var coreTIDs: Set<Int32> { inner.coreTIDs }
            func has(_ name: String) -> Bool { inner.has(name) }
            func bytes(_ name: String) throws(CheckpointError) -> [UInt8] {
                asked.append(name)
                var copy = inner
                return try copy.bytes(name)
            }
        }
        let recorder = Recorder(try CRIUCheckpointReader.DirectoryImages(directory: directory, files: HostInputFiles()))
        let checkpoint = try CRIUCheckpointReader.checkpoint(directory: directory, images: recorder, pid: nil)
        XCTAssertEqual(checkpoint.timers.map(\.id), [3])
        XCTAssertEqual(recorder.asked, ["pstree.img", "core-10.img"])
    }

    /// All images of one checkpoint together stay within 256 MiB: five thread
    /// images of 60 MiB each are refused at the fifth, naming the budget.
    func testDirectoryBudget() throws {
        try write("pstree.img", TestImage.pstree(pid: 10, threads: [10, 11, 12, 13, 14, 15]))
        try write("core-10.img", TestImage.leaderCore(timers: [TestImage.posixTimer(id: 3)]))
        for tid in 11...15 { try bigThreadCore("core-\(tid).img", size: 60 << 20) }
        let result = try runCommand(try BuiltProducts.path("timer-criu"), ["inspect", directory], timeout: 120)
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertEqual(result.stderrLines.count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("core-15.img"), result.stderr)
        XCTAssertTrue(result.stderr.contains("256 MiB all images of one CRIU checkpoint may have"), result.stderr)
        XCTAssertTrue(result.stdout.isEmpty)
    }

    /// A 64 MiB core image of zero-length entries costs about its own size:
    /// the entries are walked, not collected (they were 16 M ranges, 256 MB).
    /// The tool runs with its data segment limited to 200 MB.
    func testSixtyFourMiBCoreImageFitsIn200MB() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit") else {
            throw XCTSkip("no /usr/bin/prlimit (util-linux) to limit the tool's memory")
        }
        try sparse("core-1.img", head: TestImage.uint32LE(CRIUMagic.common) + TestImage.uint32LE(CRIUMagic.core),
                   size: 64 << 20)
        let result = try runCommand("/usr/bin/prlimit",
                                    ["--data=200000000", try BuiltProducts.path("timer-criu"), "inspect", directory + "/core-1.img"],
                                    timeout: 120)
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertEqual(result.stderrLines.count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("a core image holds one core_entry, this one has 16777214"), result.stderr)
    }

    /// Threads are looked up in sets: reading 20 times as many threads (each
    /// with a thread_id timer) takes far less than 400 times as long. A ratio,
    /// not a time: the quadratic reader took 11 s for 100,000 threads.
    func testThreadHandlingIsNotQuadratic() throws {
        func images(threads: Int) -> [String: [UInt8]] {
            let tids = (0..<threads).map { UInt64(1000 + $0) }
            var files: [String: [UInt8]] = ["pstree.img": TestImage.pstree(pid: 1000, threads: tids)]
            let timers = tids.enumerated().map { index, tid in
                TestImage.posixTimer(id: UInt64(index), notify: 4, notifyThreadID: Int32(tid))
            }
            files["core-1000.img"] = TestImage.leaderCore(timers: timers)
            let threadCore = TestImage.image(magic: CRIUMagic.core, entries: [TestImage.field(1, 1)])
            for tid in tids.dropFirst() { files["core-\(tid).img"] = threadCore }
            return files
        }
        func seconds(threads: Int) throws -> Double {
            let files = images(threads: threads)
            let start = DispatchTime.now().uptimeNanoseconds
            let checkpoint = try CRIUCheckpointReader.checkpoint(directory: "d", files: files, pid: nil)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            XCTAssertEqual(checkpoint.threads.count, threads)
            XCTAssertEqual(checkpoint.timers.count, threads)
            XCTAssertFalse(checkpoint.timers.contains { $0.notifyTargetExited })
            return elapsed
        }
        _ = try seconds(threads: 500) // warm up
        let small = try seconds(threads: 2_000)
        let large = try seconds(threads: 40_000)
        XCTAssertLessThan(large / small, 100, "2,000 threads: \(small) s, 40,000: \(large) s")
    }
}
