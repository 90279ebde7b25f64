import Foundation
import TestSupport
import XCTest
import HostKernel
@testable import TimerCore
@testable import TimerFormats
@testable import TimerComparison

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
        XCTAssertEqual(checkpoint.format, "timer-criu/2")
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

    /// A process tree: the root is read, and the others are named by their core image.
    func testPstreeWithSeveralProcesses() throws {
        var files = try CRIUFixture.images()
        let child = TestImage.field(1, 20000) + TestImage.field(2, 10177) + TestImage.field(5, 20000)
        let root = TestImage.field(1, 10177) + TestImage.field(2, 0) + TestImage.field(5, 10177) + TestImage.field(5, 10179)
        files["pstree.img"] = TestImage.image(magic: CRIUMagic.pstree, entries: [root, child])
        files["core-20000.img"] = TestImage.leaderCore(timers: [TestImage.posixTimer(id: 4, notify: 1)])

        let rootCheckpoint = try CRIUCheckpointReader.checkpoint(directory: "d", files: files, pid: nil)
        XCTAssertEqual(rootCheckpoint.pid, 10177)
        XCTAssertEqual(rootCheckpoint.timers, CRIUFixture.expectedTimers)
        XCTAssertEqual(rootCheckpoint.warnings,
                       ["pstree.img lists 2 processes; only the root, pid 10177, is read (pass core-PID.img for another)"])

        let childCheckpoint = try CRIUCheckpointReader.checkpoint(directory: "d", files: files, pid: 20000)
        XCTAssertEqual(childCheckpoint.pid, 20000)
        XCTAssertEqual(childCheckpoint.threads, [20000])
        XCTAssertEqual(childCheckpoint.timers.map(\.id), [4])
        XCTAssertEqual(childCheckpoint.warnings, [])
    }

    /// A core image whose pid pstree.img does not list: read, with a warning.
    func testCoreImageNotInPstree() throws {
        var files = try CRIUFixture.images()
        files["core-500.img"] = TestImage.leaderCore(timers: [])
        let checkpoint = try CRIUCheckpointReader.checkpoint(directory: "d", files: files, pid: 500)
        XCTAssertEqual(checkpoint.pid, 500)
        XCTAssertEqual(checkpoint.timers, [])
        XCTAssertEqual(checkpoint.warnings, ["pstree.img does not list pid 500; its threads are taken from the core-TID.img files"])
    }

    /// CRIU-only warnings: re-armed with the interval, glibc helper, thread-cputime, setitimer.
    func testCRIUWarnings() throws {
        let itimerReal = TestImage.message(1, TestImage.field(1, 0) + TestImage.field(2, 0) + TestImage.field(3, 5) + TestImage.field(4, 0))
        let timers = [
            TestImage.posixTimer(id: 1, isec: 2, vsec: 0),
            TestImage.posixTimer(id: 2, signal: 32, notify: 4, notifyThreadID: 2),
            TestImage.posixTimer(id: 3, clock: UInt64(UInt32(bitPattern: -2))),
        ].flatMap { TestImage.message(4, $0) }
        let coreEntry = TestImage.field(1, 1) + TestImage.message(3, TestImage.message(7, itimerReal + timers))
        let files = [
            "core-1.img": TestImage.image(magic: CRIUMagic.core, entries: [coreEntry]),
            "core-2.img": TestImage.image(magic: CRIUMagic.core, entries: [TestImage.field(1, 1)]),
        ]
        let checkpoint = try CRIUCheckpointReader.checkpoint(directory: "d", files: files, pid: nil)
        XCTAssertEqual(checkpoint.threads, [1, 2])
        XCTAssertEqual(checkpoint.warnings, [
            "timer 1: dumped with 0 ns left and an interval of 2000000000 ns: CRIU arms it with the interval",
            "timer 2: a glibc SIGEV_THREAD helper timer (signal 32 to thread 2): glibc's helper thread and its sival are internal to the process",
            "timer 3: thread-cputime clock in a process with 2 threads: the image does not say which thread's CPU time it counts",
        ])
        // The itimer is read, not just warned about: ITIMER_REAL 5 s left, one-shot.
        XCTAssertEqual(checkpoint.itimers, CheckpointITimers(real: TimerValue(valueNanoseconds: 5_000_000_000, intervalNanoseconds: 0)))
    }

    /// Tests/Fixtures/criu/timers-case8: a real CRIU 3.17.1 dump of a process
    /// with POSIX timers, three timerfds and two armed itimers, decoded field
    /// by field against its crit json (/work fixture README, kept beside it).
    func testTimerFDsAndITimersOfCRIU317() throws {
        let directory = BuiltProducts.repositoryRoot + "/Tests/Fixtures/criu/timers-case8"
        let checkpoint = try CheckpointSource.load(path: directory)
        XCTAssertEqual(checkpoint.pid, 8623)
        XCTAssertEqual(checkpoint.timers.map(\.id), [2, 40000])
        // core.json entries[0].tc.timers: real {30, 0, 89, 616816}, virt {2, 0, 20, 4000}, prof all 0.
        XCTAssertEqual(checkpoint.itimers, CheckpointITimers(
            real: TimerValue(valueNanoseconds: 89_616_816_000, intervalNanoseconds: 30_000_000_000),
            virtual: TimerValue(valueNanoseconds: 20_004_000_000, intervalNanoseconds: 2_000_000_000),
            prof: .disarmed))
        // files.json .tfd joined with fdinfo-2.json: ids 6, 7, 8 at fds 5, 9, 30;
        // tfd.flags 0x2, 0x2, 0x802 (O_RDWR dropped), fdinfo flags 0 (no FD_CLOEXEC).
        XCTAssertEqual(checkpoint.timerFDs, [
            CheckpointTimerFD(fd: 5, clockID: .realtime, flags: 0, settimeFlags: 0, ticks: 0,
                              valueNanoseconds: 59_617_588_361, intervalNanoseconds: 2_000_000_000),
            CheckpointTimerFD(fd: 9, clockID: .boottime, flags: 0, settimeFlags: 1, ticks: 0,
                              valueNanoseconds: 499_617_563_184, intervalNanoseconds: 0),
            CheckpointTimerFD(fd: 30, clockID: .monotonic, flags: 0x800, settimeFlags: 0, ticks: 0,
                              valueNanoseconds: 39_617_536_043, intervalNanoseconds: 0),
        ])
        XCTAssertEqual(checkpoint.warnings, [
            "timerfd 9: absolute timer on boottime, whose epoch (boot) differs on the restoring machine: restored by its time left, re-based on that machine's clock",
        ])
    }

    /// 90,000 timers (the most one user can hold here, docs/kernel-facts.md 2) decode quickly.
    func testNinetyThousandTimers() throws {
        let timers = (0..<90_000).map { TestImage.posixTimer(id: UInt64($0) * 7, sival: UInt64($0), vsec: 3, vnsec: UInt64($0)) }
        let files = ["core-1.img": TestImage.leaderCore(timers: timers)]
        let start = DispatchTime.now().uptimeNanoseconds
        let checkpoint = try CRIUCheckpointReader.checkpoint(directory: "d", files: files, pid: nil)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        XCTAssertEqual(checkpoint.timers.count, 90_000)
        XCTAssertEqual(checkpoint.timers.last?.id, 89_999 * 7)
        XCTAssertEqual(checkpoint.timers.last?.valueNanoseconds, 3_000_089_999)
        // A time bound means nothing under a sanitizer (ThreadSanitizer: 6 s here).
        if ActiveSanitizer.name == nil { XCTAssertLessThan(seconds, 5, "decoding 90,000 timers took \(seconds) s") }
        print("CRIU: decoded 90,000 timers in \(seconds) s")
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
