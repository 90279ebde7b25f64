import Foundation
import TestSupport
import HostKernel
import TimerCore
import TimerFormats
import TimerComparison
import XCTest

/// `timer-criu criu fix` and `criu strip` as built binaries, and their output
/// decoded by CRIU's own `crit` (Debian's criu package; skipped where absent).
final class CRIUWriteCommandTests: XCTestCase {
    static let case9 = BuiltProducts.repositoryRoot + "/Tests/Fixtures/criu/timers-case9"
    static let case1 = BuiltProducts.repositoryRoot + "/Tests/Fixtures/criu/timers-case1"
    var scratch = ""

    override func setUpWithError() throws {
        scratch = NSTemporaryDirectory() + "criu-write-cli-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: scratch)
    }

    func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// Every file of `input` is in `output` with the same bytes, except `changed`.
    func assertSameFiles(_ input: String, _ output: String, except changed: Set<String>, added: Set<String> = [],
                         file: StaticString = #filePath, line: UInt = #line) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: input)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: output)), Set(names).union(added), file: file, line: line)
        for name in names where !changed.contains(name) {
            XCTAssertEqual(try bytes(output + "/" + name), try bytes(input + "/" + name), name, file: file, line: line)
        }
        for name in changed {
            XCTAssertNotEqual(try bytes(output + "/" + name), try bytes(input + "/" + name), name, file: file, line: line)
        }
    }

    func testFixOfCase9PrintsOneLinePerTimerAndWritesARestorableCopy() throws {
        let output = scratch + "/fixed"
        let result = try runTimerCRIU(["criu", "fix", Self.case9, "-o", output])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdoutText, "core-8803.img: timer 5: notify thread 8805 had exited: SIGEV_THREAD_ID -> SIGEV_NONE\n")
        XCTAssertEqual(result.stderr, "timer-criu: changed 1 timer(s) in 1 core image(s); wrote \(output)\n")
        try assertSameFiles(Self.case9, output, except: ["core-8803.img"])
        let fixed = try CheckpointSource.load(path: output)
        XCTAssertEqual(fixed.timers.map(\.notify), [.none, .signal])
        XCTAssertEqual(fixed.timers.map(\.notifyTarget), [8803, 8803])
        XCTAssertEqual(fixed.warnings, [])
        // Now it restores (the model plays CRIU's restorer: the same timer_create calls).
        let restore = try runTimerCRIU(["restore", output, "--dead-thread-notify", "fail"])
        XCTAssertEqual(restore.status, 0, restore.stdoutText + restore.stderr)
    }

    func testFixJSONAndTheProcessPolicy() throws {
        let output = scratch + "/fixed"
        let result = try runTimerCRIU(["criu", "fix", Self.case9, "-o", output, "--dead-thread-notify", "process", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdoutText, """
            {
              "output": "\(output)",
              "rewritten": ["core-8803.img"],
              "changed": [
                {"pid": 8803, "file": "core-8803.img", "id": 5, "dead_thread": 8805, "notify": "signal"}
              ]
            }

            """)
        let fixed = try CheckpointSource.load(path: output)
        XCTAssertEqual(fixed.timers.map(\.notify), [.signal, .signal])
    }

    func testAnExistingOutputIsRefusedWith73AndLeftAlone() throws {
        let output = scratch + "/taken"
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: false)
        try Data([1]).write(to: URL(fileURLWithPath: output + "/mine"))
        for command in ["fix", "strip"] {
            let result = try runTimerCRIU(["criu", command, Self.case9, "-o", output])
            XCTAssertEqual(result.status, 73, command)
            XCTAssertEqual(result.stderr, "timer-criu: cannot write \(output): the directory exists and is not empty (it is never overwritten)\n")
            XCTAssertEqual(result.stdoutText, "")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: output), ["mine"])
    }

    /// SIGINT with the copy complete but not yet renamed: the command ends by
    /// the signal, and neither OUT nor the temporary directory is left.
    func testAnInterruptedStripLeavesNothing() throws {
        let output = scratch + "/stripped"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try BuiltProducts.path("timer-criu"))
        process.arguments = ["criu", "strip", Self.case1, "-o", output]
        process.environment = ["TIMER_CRIU_TEST_PAUSE_BEFORE_RENAME_MS": "30000"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let temporary = scratch + "/.stripped.tmp-\(process.processIdentifier)"
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: temporary + "/timer-criu.json"), Date() < deadline, process.isRunning {
            usleep(2_000)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: temporary + "/timer-criu.json"), "the copy was being written")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)
        XCTAssertEqual(process.terminationStatus, SIGINT)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
        XCTAssertFalse(FileManager.default.fileExists(atPath: temporary))
    }

    /// A cut core image: the same one line as inspect, exit 2, nothing written.
    func testATruncatedImageIsRefusedAsInspectRefusesItAndNothingIsWritten() throws {
        let input = scratch + "/cut"
        try FileManager.default.copyItem(atPath: Self.case9, toPath: input)
        let core = input + "/core-8803.img"
        try Data(try bytes(core).prefix(1000)).write(to: URL(fileURLWithPath: core))
        let inspect = try runTimerCRIU(["inspect", input])
        XCTAssertEqual(inspect.status, 2)
        for command in ["fix", "strip"] {
            let output = scratch + "/out-\(command)"
            let result = try runTimerCRIU(["criu", command, input, "-o", output])
            XCTAssertEqual(result.status, 2, command)
            XCTAssertEqual(result.stderr, inspect.stderr, command)
            XCTAssertTrue(result.stderr.hasPrefix("timer-criu: \(core): byte 8: entry of "), result.stderr)
            XCTAssertEqual(result.stdoutText, "")
            XCTAssertFalse(FileManager.default.fileExists(atPath: output))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch), ["cut"], "no temporary directory left")
    }

    /// case1's core image with its timers replaced by one at ID 3,000,000,
    /// built here at the wire level (CoreImageSurgery, independent of the writer).
    func makeCheckpointWithTimerAt3000000() throws -> String {
        let input = scratch + "/id3m"
        try FileManager.default.copyItem(atPath: Self.case1, toPath: input)
        let core = input + "/core-10177.img"
        let timer = CoreImageSurgery.field(1, 3_000_000) + CoreImageSurgery.field(2, 1) + CoreImageSurgery.field(3, 14)
            + CoreImageSurgery.field(4, 0) + CoreImageSurgery.field(5, 0x77) + CoreImageSurgery.field(6, 0)
            + CoreImageSurgery.field(7, 2) + CoreImageSurgery.field(8, 0) + CoreImageSurgery.field(9, 60) + CoreImageSurgery.field(10, 5)
        try Data(try CoreImageSurgery.replacingTimers(of: bytes(core), with: [timer])).write(to: URL(fileURLWithPath: core))
        return input
    }

    func testStripOfATimerAtID3000000() throws {
        let input = try makeCheckpointWithTimerAt3000000()
        XCTAssertEqual(try CheckpointSource.load(path: input).timers.map(\.id), [3_000_000])
        let output = scratch + "/stripped"
        let result = try runTimerCRIU(["criu", "strip", input, "-o", output])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdoutText, "core-10177.img: 1 timer(s) taken out (highest ID 3000000)\n")
        try assertSameFiles(input, output, except: ["core-10177.img"], added: ["timer-criu.json"])
        XCTAssertEqual(try CheckpointSource.load(path: output).timers, [])
        let stripped = try CheckpointSource.load(path: output + "/timer-criu.json")
        XCTAssertEqual(stripped.timers, [CheckpointTimer(id: 3_000_000, clockID: .monotonic, signal: 14, sigevValue: 0x77,
                                                         notify: .signal, notifyTarget: 10177, valueNanoseconds: 60_000_000_005,
                                                         intervalNanoseconds: 2_000_000_000, overrun: 0)])
        XCTAssertEqual(stripped.threads, [10177, 10179])
    }

    // MARK: crit

    static let crit = ["/usr/bin/crit", "/usr/local/bin/crit", "/usr/sbin/crit"].first { FileManager.default.isExecutableFile(atPath: $0) }

    func critDecode(_ path: String) throws -> JSONValue {
        guard let crit = Self.crit else {
            throw XCTSkip("crit (Debian package criu) is not installed: apt-get install -y criu")
        }
        let result = try runCommand(crit, ["decode", "-i", path])
        XCTAssertEqual(result.status, 0, "crit decode \(path): \(result.stderr)")
        return try JSONValue.parse([UInt8](result.stdout))
    }

    /// `value` with the member at `path` (object keys, array indexes) replaced, or removed when nil.
    func editing(_ value: JSONValue, _ path: [String], _ replacement: JSONValue?) -> JSONValue {
        guard let first = path.first else { return replacement ?? value }
        switch value {
        case .object(let members):
            if path.count == 1, replacement == nil { return .object(members.filter { $0.0 != first }) }
            return .object(members.map { $0.0 == first ? ($0.0, editing($0.1, Array(path.dropFirst()), replacement)) : $0 })
        case .array(let items):
            guard let index = Int(first) else { return value }
            return .array(items.enumerated().map { $0.offset == index ? editing($0.element, Array(path.dropFirst()), replacement) : $0.element })
        default:
            return value
        }
    }

    func testCritDecodesFixWithOnlyTheNotifyOfTimer5Changed() throws {
        let output = scratch + "/fixed"
        XCTAssertEqual(try runTimerCRIU(["criu", "fix", Self.case9, "-o", output]).status, 0)
        let before = try critDecode(Self.case9 + "/core-8803.img")
        let after = try critDecode(output + "/core-8803.img")
        let timer5 = ["entries", "0", "tc", "timers", "posix", "0"]
        XCTAssertEqual(Self.member(before, timer5 + ["it_id"]), .number("5"))
        var expected = editing(before, timer5 + ["it_sigev_notify"], .number("1"))
        expected = editing(expected, timer5 + ["notify_thread_id"], nil)
        XCTAssertEqual(after, expected)
        XCTAssertNotEqual(before, after)
        XCTAssertEqual(try critDecode(output + "/pstree.img"), try critDecode(Self.case9 + "/pstree.img"))
    }

    func testCritDecodesStripWithOnlyThePosixTimersGone() throws {
        let input = try makeCheckpointWithTimerAt3000000()
        let output = scratch + "/stripped"
        XCTAssertEqual(try runTimerCRIU(["criu", "strip", input, "-o", output]).status, 0)
        let before = try critDecode(input + "/core-10177.img")
        let after = try critDecode(output + "/core-10177.img")
        let posix = ["entries", "0", "tc", "timers", "posix"]
        XCTAssertEqual(Self.member(before, posix + ["0", "it_id"]), .number("3000000"))
        XCTAssertEqual(after, editing(before, posix, nil))
        XCTAssertNil(Self.member(after, posix))
        XCTAssertEqual(try critDecode(output + "/core-10179.img"), try critDecode(input + "/core-10179.img"))
    }

    static func member(_ value: JSONValue, _ path: [String]) -> JSONValue? {
        var current: JSONValue? = value
        for key in path {
            if case .array(let items)? = current, let index = Int(key) {
                current = items.indices.contains(index) ? items[index] : nil
            } else {
                current = current?[key]
            }
        }
        return current
    }
}

/// Replaces the POSIX timers of a real core image, re-encoding the three
/// messages around them by hand (core_entry.tc.timers.posix): a test-side
/// encoder, so the writer under test does not make its own inputs.
enum CoreImageSurgery {
    static func varint(_ value: UInt64) -> [UInt8] {
        var out: [UInt8] = [], rest = value
        while rest >= 0x80 { out.append(UInt8(rest & 0x7f) | 0x80); rest >>= 7 }
        return out + [UInt8(rest)]
    }
    static func field(_ number: UInt64, _ value: UInt64) -> [UInt8] { varint(number << 3) + varint(value) }
    static func message(_ number: UInt64, _ body: [UInt8]) -> [UInt8] { varint(number << 3 | 2) + varint(UInt64(body.count)) + body }

    /// (number, wire type, whole field bytes, payload) of each field of `bytes`.
    static func fields(_ bytes: ArraySlice<UInt8>) -> [(UInt64, UInt64, [UInt8], ArraySlice<UInt8>)] {
        var result: [(UInt64, UInt64, [UInt8], ArraySlice<UInt8>)] = []
        var i = bytes.startIndex
        func readVarint() -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while true {
                let byte = bytes[i]; i += 1
                value |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
        }
        while i < bytes.endIndex {
            let start = i
            let key = readVarint()
            var payload = bytes[i..<i]
            switch key & 7 {
            case 0: _ = readVarint()
            case 1: i += 8
            case 5: i += 4
            default:
                let length = Int(readVarint())
                payload = bytes[i..<i + length]
                i += length
            }
            result.append((key >> 3, key & 7, Array(bytes[start..<i]), payload))
        }
        return result
    }

    static func replacingTimers(of image: [UInt8], with timers: [[UInt8]]) throws -> [UInt8] {
        let length = Int(image[8]) | Int(image[9]) << 8 | Int(image[10]) << 16 | Int(image[11]) << 24
        let entry = image[12..<12 + length]
        func rebuild(_ body: ArraySlice<UInt8>, path: [UInt64]) -> [UInt8] {
            var out: [UInt8] = []
            var placed = false
            for (number, _, raw, payload) in fields(body) {
                if path.count == 1, number == path[0] {
                    if !placed { out += timers.flatMap { message(number, $0) }; placed = true }
                } else if path.count > 1, number == path[0] {
                    out += message(number, rebuild(payload, path: Array(path.dropFirst())))
                } else {
                    out += raw
                }
            }
            if path.count == 1, !placed { out += timers.flatMap { message(path[0], $0) } }
            return out
        }
        let newEntry = rebuild(entry, path: [3, 7, 4])
        let count = UInt32(newEntry.count)
        return Array(image[0..<8]) + (0..<4).map { UInt8(truncatingIfNeeded: count >> (8 * UInt32($0))) } + newEntry
            + Array(image[(12 + length)...])
    }
}
