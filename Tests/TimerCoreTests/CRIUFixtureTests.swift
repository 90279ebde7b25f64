import Foundation
import XCTest
@testable import TimerCore

/// Tests/Fixtures/criu/timers-case1: a real CRIU 4.2 dump (its README.md says
/// how it was made), found relative to this file so tests need no ../shared.
enum CRIUFixture {
    static let directory: String = {
        var url = URL(fileURLWithPath: #filePath)   // Tests/TimerCoreTests/CRIUFixtureTests.swift
        url.deleteLastPathComponent()
        url.deleteLastPathComponent()
        return url.appendingPathComponent("Fixtures/criu/timers-case1").path
    }()

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name)))
    }

    /// The image files the reader uses, by name.
    static func images() throws -> [String: [UInt8]] {
        [
            "pstree.img": try bytes("pstree.img"),
            "core-10177.img": try bytes("core-10177.img"),
            "core-10179.img": try bytes("core-10179.img"),
        ]
    }

    /// The five timers of the fixture's README, as timer-criu/1 timers
    /// (values: the remaining times CRIU stored, core.json's vsec/vnsec).
    static let expectedTimers: [CheckpointTimer] = [
        CheckpointTimer(id: 0, clockID: .monotonic, signal: 14, sigevValue: 0x1111, notify: .signal, notifyTarget: 10177,
                        valueNanoseconds: 97_575_760_425, intervalNanoseconds: 5_000_000_000, overrun: 0),
        CheckpointTimer(id: 7, clockID: .realtime, signal: 40, sigevValue: 0xdead_beef_cafe, notify: .signal, notifyTarget: 10177,
                        valueNanoseconds: 197_575_760_475, intervalNanoseconds: 0, overrun: 0),
        CheckpointTimer(id: 99, clockID: .monotonic, signal: 34, sigevValue: 0, notify: .threadID, notifyTarget: 10179,
                        valueNanoseconds: 47_575_758_352, intervalNanoseconds: 1_000_000_000, overrun: 0),
        CheckpointTimer(id: 123_456, clockID: .boottime, signal: 0, sigevValue: 0, notify: .none, notifyTarget: 10177,
                        valueNanoseconds: 0, intervalNanoseconds: 0, overrun: 0),
        CheckpointTimer(id: 2_147_483_647, clockID: .processCPUTime, signal: 12, sigevValue: 0, notify: .signal, notifyTarget: 10177,
                        valueNanoseconds: 0, intervalNanoseconds: 0, overrun: 0),
    ]
}

final class CRIUFixtureTests: XCTestCase {
    func testDirectoryDecodesToTheFiveTimersOfTheREADME() throws {
        let checkpoint = try CheckpointSource.load(path: CRIUFixture.directory)
        XCTAssertEqual(checkpoint.format, "timer-criu/1")
        XCTAssertEqual(checkpoint.pid, 10177)
        XCTAssertEqual(checkpoint.kernel, "criu-image")
        XCTAssertEqual(checkpoint.threads, [10177, 10179])
        XCTAssertEqual(checkpoint.timers, CRIUFixture.expectedTimers)
        XCTAssertEqual(checkpoint.warnings, [])
    }

    /// Every field of every posix_timer_entry against `crit decode`'s view.
    func testEveryFieldMatchesCritsCoreJSON() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: CRIUFixture.directory + "/core.json"))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let entries = try XCTUnwrap(root["entries"] as? [[String: Any]])
        let tc = try XCTUnwrap(entries.first?["tc"] as? [String: Any])
        let timers = try XCTUnwrap(tc["timers"] as? [String: Any])
        let posix = try XCTUnwrap(timers["posix"] as? [[String: Any]])
        XCTAssertEqual(posix.count, 5)

        let checkpoint = try CheckpointSource.load(path: CRIUFixture.directory)
        XCTAssertEqual(checkpoint.timers.count, posix.count)
        func number(_ entry: [String: Any], _ key: String) throws -> UInt64 {
            try XCTUnwrap(entry[key] as? NSNumber, "missing \(key)").uint64Value
        }
        for entry in posix {
            let id = try number(entry, "it_id")
            let timer = try XCTUnwrap(checkpoint.timers.first { UInt64($0.id) == id }, "timer \(id) not decoded")
            XCTAssertEqual(UInt64(UInt32(bitPattern: timer.clockID.rawValue)), try number(entry, "clock_id"), "timer \(id) clock_id")
            XCTAssertEqual(UInt64(UInt32(bitPattern: timer.signal)), try number(entry, "si_signo"), "timer \(id) si_signo")
            XCTAssertEqual(UInt64(timer.notify.sigevNotify), try number(entry, "it_sigev_notify"), "timer \(id) it_sigev_notify")
            XCTAssertEqual(timer.sigevValue, try number(entry, "sival_ptr"), "timer \(id) sival_ptr")
            XCTAssertEqual(timer.overrun.map(UInt64.init), try number(entry, "overrun"), "timer \(id) overrun")
            XCTAssertEqual(timer.intervalNanoseconds.map(UInt64.init),
                           try number(entry, "isec") * 1_000_000_000 + number(entry, "insec"), "timer \(id) interval")
            XCTAssertEqual(timer.valueNanoseconds.map(UInt64.init),
                           try number(entry, "vsec") * 1_000_000_000 + number(entry, "vnsec"), "timer \(id) value")
            if let tid = entry["notify_thread_id"] as? NSNumber {
                XCTAssertEqual(timer.notify, .threadID)
                XCTAssertEqual(timer.notifyTarget, tid.int32Value, "timer \(id) notify_thread_id")
            } else {
                XCTAssertNotEqual(timer.notify, .threadID)
                XCTAssertEqual(timer.notifyTarget, checkpoint.pid, "timer \(id) target is the process")
            }
        }
    }

    /// The same checkpoint through the leader's core image named directly.
    func testCoreImagePathReadsTheSameCheckpoint() throws {
        let fromDirectory = try CheckpointSource.load(path: CRIUFixture.directory)
        let fromCore = try CheckpointSource.load(path: CRIUFixture.directory + "/core-10177.img")
        XCTAssertEqual(fromCore, fromDirectory)
    }

    func testThreadCoreImageIsRefusedNamingTheLeader() throws {
        let path = CRIUFixture.directory + "/core-10179.img"
        XCTAssertThrowsError(try CheckpointSource.load(path: path)) { error in
            XCTAssertEqual("\(error)", "\(path): thread 10179 of process 10177 (pstree.img): its process's timers are in core-10177.img")
        }
    }

    /// Without pstree.img the leader is the core image holding a task_core_entry.
    func testWithoutPstreeTheLeaderIsTheCoreWithTaskCore() throws {
        var files = try CRIUFixture.images()
        files["pstree.img"] = nil
        let checkpoint = try CRIUCheckpointReader.checkpoint(directory: "d", files: files, pid: nil)
        XCTAssertEqual(checkpoint.pid, 10177)
        XCTAssertEqual(checkpoint.threads, [10177, 10179])
        XCTAssertEqual(checkpoint.timers, CRIUFixture.expectedTimers)
    }

    /// A thread_id target with no core-TID.img: kept, marked, warned about.
    func testThreadIDTargetWithoutItsCoreImageWarns() throws {
        var files = try CRIUFixture.images()
        files["core-10179.img"] = nil
        let checkpoint = try CRIUCheckpointReader.checkpoint(directory: "d", files: files, pid: nil)
        XCTAssertEqual(checkpoint.threads, [10177])
        let timer99 = try XCTUnwrap(checkpoint.timers.first { $0.id == 99 })
        XCTAssertEqual(timer99.notifyTarget, 10179)
        XCTAssertTrue(timer99.notifyTargetExited)
        XCTAssertEqual(checkpoint.warnings, [
            "thread 10179 is listed in pstree.img but core-10179.img is missing",
            "timer 99: notify thread 10179 is not a thread of the checkpoint (no core-10179.img): restoring it as is fails with EINVAL",
        ])
    }

    func testDispatcherKinds() {
        XCTAssertEqual(CheckpointSource.kind(of: CRIUFixture.directory), .criuDirectory)
        XCTAssertEqual(CheckpointSource.kind(of: CRIUFixture.directory + "/core-10177.img"), .criuCoreImage)
        XCTAssertEqual(CheckpointSource.kind(of: "/nonexistent/cp.json"), .json)
    }

    /// The CRIU checkpoint written as timer-criu/1 JSON reads back equal.
    func testJSONRoundTrip() throws {
        let checkpoint = try CheckpointSource.load(path: CRIUFixture.directory)
        let again = try Checkpoint(json: checkpoint.jsonBytes(), path: "round-trip")
        XCTAssertEqual(again, checkpoint)
    }
}
