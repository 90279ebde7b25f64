import Foundation
import TestSupport
import XCTest
@testable import TimerCore
@testable import TimerFormats
@testable import TimerComparison

/// Replays, in `swift test`, every input the libFuzzer targets (Fuzz/*.swift,
/// Scripts/fuzz.sh) start from or found: the seed corpora in Fuzz/corpus/TARGET
/// and the regression inputs in Tests/Fixtures/fuzz-regressions/TARGET. Each
/// input goes through the same checks as its fuzz target: no trap, and what is
/// accepted round-trips through the timer-criu/1 JSON unchanged.
/// docs/reliability.md lists the fuzz runs.
final class FuzzRegressionTests: XCTestCase {
    /// The inputs of one target, by file name; skips if the repository's
    /// folders are not next to the sources (e.g. an installed test bundle).
    func inputs(_ target: String) throws -> [(String, [UInt8])] {
        let root = BuiltProducts.repositoryRoot
        var found: [(String, [UInt8])] = []
        for folder in ["Fuzz/corpus/\(target)", "Tests/Fixtures/fuzz-regressions/\(target)"] {
            let path = root + "/" + folder
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { continue }
            for name in names.sorted() where !name.hasPrefix(".") {
                let data = try Data(contentsOf: URL(fileURLWithPath: path + "/" + name))
                found.append((folder + "/" + name, Array(data)))
            }
        }
        if found.isEmpty { throw XCTSkip("no inputs for \(target) under \(root)") }
        return found
    }

    /// A checkpoint that was accepted must write JSON that reads back equal.
    func assertRoundTrip(_ checkpoint: Checkpoint, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        let json = checkpoint.jsonBytes()
        do {
            let back = try Checkpoint(json: json, path: "again.json")
            XCTAssertEqual(back, checkpoint, "\(name): JSON round trip changed the checkpoint", file: file, line: line)
        } catch {
            XCTFail("\(name): its JSON is refused: \(error)", file: file, line: line)
        }
        _ = try? checkpoint.validate(path: name)
        _ = CheckpointTable.render(checkpoint)
    }

    func testProcTimersInputs() throws {
        var accepted = 0
        for (name, bytes) in try inputs("proc-timers") {
            guard let timers = try? ProcTimersParser.parse(bytes) else { continue }
            accepted += 1
            let again = try ProcTimersParser.parse(ProcTimersRenderer.render(timers))
            XCTAssertEqual(again.map(\.id), timers.map(\.id), name)
            XCTAssertEqual(again.map(\.sigevValue), timers.map(\.sigevValue), name)
            XCTAssertEqual(again.map(\.clockID), timers.map(\.clockID), name)
            if let checkpoint = try? Checkpoint(pid: 1, kernel: "6.18.0", threads: [1, 2], procTimers: timers) {
                assertRoundTrip(checkpoint, name)
            }
        }
        XCTAssertGreaterThan(accepted, 0, "no real /proc/PID/timers text among the seeds")
    }

    func testCheckpointJSONInputs() throws {
        var accepted = 0
        for (name, bytes) in try inputs("checkpoint-json") {
            guard let checkpoint = try? Checkpoint(json: bytes, path: name) else { continue }
            accepted += 1
            assertRoundTrip(checkpoint, name)
        }
        XCTAssertGreaterThan(accepted, 0, "no valid checkpoint among the seeds")
    }

    func testCRIUCoreInputs() throws {
        var accepted = 0
        for (name, bytes) in try inputs("criu-core") {
            _ = try? CRIUImageDecoder.decodePstree(bytes)
            guard let checkpoint = try? CRIUCheckpointReader.checkpoint(
                directory: "fuzz", files: ["core-10177.img": bytes], pid: 10177) else { continue }
            accepted += 1
            assertRoundTrip(checkpoint, name)
        }
        XCTAssertGreaterThan(accepted, 0, "no valid core image among the seeds")
    }

    /// Boundary inputs written by hand next to what the fuzzers found: each
    /// must be refused with the given words (not trap, not be accepted).
    func testTimerFDInfoInputs() throws {
        var accepted = 0
        for (name, bytes) in try inputs("timerfd-info") {
            guard let info = try? TimerFDInfoParser.parse(bytes) else { continue }
            accepted += 1
            XCTAssertEqual(try TimerFDInfoParser.parse(TimerFDInfoRenderer.render(info)), info, name)
            var checkpoint = Checkpoint(pid: 1, kernel: "6.18.0", threads: [1], timers: [])
            checkpoint.timerFDs = [CheckpointTimerFD(fd: 3, info: info)]
            assertRoundTrip(checkpoint, name)
        }
        XCTAssertGreaterThan(accepted, 0, "no real timerfd fdinfo text among the seeds")
    }

    func testProcStatusInputs() throws {
        var statuses = 0, stats = 0
        for (name, bytes) in try inputs("proc-status") {
            if let status = try? ProcStatus(bytes) {
                statuses += 1
                XCTAssertEqual(try ProcStatus(status.text), status, name)
            }
            if let stat = try? ProcStat(bytes) {
                stats += 1
                XCTAssertEqual(try ProcStat(stat.text), stat, name)
            }
        }
        XCTAssertGreaterThan(statuses, 0, "no real /proc/PID/status text among the seeds")
        XCTAssertGreaterThan(stats, 0, "no real /proc/PID/stat text among the seeds")
    }

    func testHandWrittenBoundaries() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let cases: [(String, [UInt8], String)] = [
            ("nesting 100,000 deep (stack)", Array(deep.utf8), "nested more than 64 levels"),
            ("a number of 10,000 digits", Array(("{\"format\": \"timer-criu/1\", \"pid\": " + String(repeating: "9", count: 10_000) + "}").utf8),
             "is not an integer"),
            ("a lone high surrogate", Array("{\"format\": \"\\ud800\"}".utf8), "unpaired surrogate"),
            ("a NUL byte in a string", Array("{\"format\": \"a".utf8) + [0] + Array("\"}".utf8), "control character"),
            ("-0 as the pid", Array("{\"format\": \"timer-criu/1\", \"pid\": -0, \"kernel\": \"x\", \"timers\": []}".utf8),
             "outside 1...2147483647"),
        ]
        for (name, bytes, words) in cases {
            XCTAssertThrowsError(try Checkpoint(json: bytes, path: "x.json"), name) { error in
                XCTAssertTrue("\(error)".contains(words), "\(name): \(error)")
            }
        }
        let proc: [(String, String, String)] = [
            ("an ID of 12 digits", "ID: 999999999999\nsignal: 14/0\nnotify: signal/pid.1\nClockID: 0\n", "outside 0...2147483647"),
            ("a sival of 17 hex digits", "ID: 1\nsignal: 14/00000000000000000\nnotify: signal/pid.1\nClockID: 0\n", "more than 16 hex digits"),
            ("a block cut short", "ID: 1\nsignal: 14/0\n", "truncated"),
            ("a lone minus", "ID: -\n", "expected the timer ID"),
        ]
        for (name, text, words) in proc {
            XCTAssertThrowsError(try ProcTimersParser.parse(text), name) { error in
                XCTAssertTrue("\(error)".contains(words), "\(name): \(error)")
            }
        }
    }
}
