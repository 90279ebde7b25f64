import CTimerSyscalls
import Foundation
import HostKernel
import TimerCore
import TimerFormats
import TimerComparison
import XCTest

/// The probes behind `timer-criu check`, in process: each verdict matches
/// what the kernel really does, and no probe changes the calling process or
/// leaves a child behind.
final class HostFeaturesTests: XCTestCase {
    func testEveryFeatureIsProbedInOrder() {
        let report = HostFeatures.probe()
        XCTAssertEqual(report.features.map(\.name), ["proc-timers", "create-at-id", "ptrace", "sigpending",
                                                      "cap-checkpoint-restore", "cap-wake-alarm", "alarm-clocks"])
        XCTAssertEqual(report.features.filter(\.required).map(\.name), ["proc-timers", "ptrace", "sigpending"])
        XCTAssertEqual(report.ok, report.missing.isEmpty)
        XCTAssertEqual(report.kernelRelease, HostKernel.release)
        for feature in report.features { XCTAssertFalse(feature.detail.isEmpty, feature.name) }
    }

    func testProcTimersMatchesWhatTheProcessCanRead() {
        let feature = HostFeatures.procTimers()
        let readable = FileManager.default.isReadableFile(atPath: "/proc/self/timers")
        XCTAssertEqual(feature.ok, readable, feature.detail)
        if readable { XCTAssertTrue(feature.detail.hasPrefix("/proc/self/timers readable"), feature.detail) }
    }

    /// A /proc without `timers` (a kernel without CONFIG_CHECKPOINT_RESTORE).
    func testProcTimersMissingOnAProcWithoutTheFile() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tc-proc-\(UUID().uuidString)")
        let pidDir = root.appendingPathComponent("\(getpid())")
        try FileManager.default.createDirectory(at: pidDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try "Name:\txctest\nTgid:\t\(getpid())\nPid:\t\(getpid())\nState:\tR (running)\n"
            .write(to: pidDir.appendingPathComponent("status"), atomically: true, encoding: .utf8)
        let feature = HostFeatures.procTimers(procRoot: root.path)
        XCTAssertFalse(feature.ok)
        XCTAssertTrue(feature.required)
        XCTAssertTrue(feature.detail.contains("timers"), feature.detail)
    }

    /// GET only reads the mode: it is 0 before and after, and equals what
    /// the HostKernel restore path sees.
    func testCreateAtIDProbeLeavesTheModeAlone() throws {
        let before = tc_prctl(PR_TIMER_CREATE_RESTORE_IDS, UInt(TC_PR_TIMER_CREATE_RESTORE_IDS_GET), 0, 0, 0)
        let feature = HostFeatures.createAtID()
        let after = tc_prctl(PR_TIMER_CREATE_RESTORE_IDS, UInt(TC_PR_TIMER_CREATE_RESTORE_IDS_GET), 0, 0, 0)
        XCTAssertEqual(before, after)
        XCTAssertEqual(feature.ok, before >= 0, feature.detail)
        if before < 0 {
            XCTAssertTrue(feature.detail.contains("falls back to the dance"), feature.detail)
        } else {
            XCTAssertEqual(before, 0, "a test process must not be in create-at-ID mode")
            XCTAssertEqual(feature.values.first { $0.key == "mode" }?.value, 0)
        }
    }

    /// The ptrace probe's child is gone afterwards and nothing of ours is traced.
    func testPtraceProbeLeavesNoChild() throws {
        let feature = HostFeatures.ptraceChild()
        let digits = feature.detail.split(separator: "(").dropFirst().first { $0.hasPrefix("pid ") }
        let child = try XCTUnwrap(digits.flatMap { Int32($0.dropFirst(4).prefix { $0.isNumber }) }, feature.detail)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/proc/\(child)"), "probe child \(child) still exists")
        if !feature.ok { print("ptrace probe: \(feature.detail)") }
        let status = HostFeatures.readStatus()
        XCTAssertEqual(status?.tracerPID, 0)
    }

    func testSigpendingFromStatus() throws {
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(__RLIMIT_SIGPENDING.rawValue), &limit)
        let soft = Int64(limit.rlim_cur)
        let room = HostFeatures.sigpending(status: try ProcStatus("SigQ:\t12/\(soft)\n"))
        XCTAssertTrue(room.ok, room.detail)
        XCTAssertEqual(room.values.map(\.key), ["limit", "in_use", "free"])
        XCTAssertEqual(room.values.map(\.value), [soft, 12, soft - 12])
        let full = HostFeatures.sigpending(status: try ProcStatus("SigQ:\t\(soft)/\(soft)\n"))
        XCTAssertFalse(full.ok)
        XCTAssertTrue(full.detail.contains("EAGAIN"), full.detail)
        let live = HostFeatures.sigpending(status: HostFeatures.readStatus())
        XCTAssertTrue(live.detail.hasPrefix("RLIMIT_SIGPENDING \(soft)"), live.detail)
    }

    func testCapabilitiesFromCapEff() throws {
        let all = try ProcStatus("CapEff:\t000001ffffffffff\n")
        let none = try ProcStatus("CapEff:\t0000000000000000\n")
        let onlyWake = try ProcStatus("CapEff:\t0000000800000000\n")
        for (status, checkpoint, wake) in [(all, true, true), (none, false, false), (onlyWake, false, true)] {
            let cr = HostFeatures.capability(status: status, bit: 40, name: "cap-checkpoint-restore",
                                             capName: "CAP_CHECKPOINT_RESTORE", neededBy: "x")
            let wa = HostFeatures.capability(status: status, bit: 35, name: "cap-wake-alarm",
                                             capName: "CAP_WAKE_ALARM", neededBy: "x")
            XCTAssertEqual(cr.ok, checkpoint, "\(status)")
            XCTAssertEqual(wa.ok, wake, "\(status)")
        }
        XCTAssertThrowsError(try ProcStatus("CapEff:\tzz\n"))
        XCTAssertFalse(HostFeatures.capability(status: nil, bit: 40, name: "c", capName: "C", neededBy: "x").ok)
        XCTAssertFalse(HostFeatures.capability(status: try ProcStatus("Name:\tx\n"), bit: 40, name: "c", capName: "C", neededBy: "x").ok)
    }

    /// The alarm probe runs in a child: our timer list and ID counter are untouched.
    func testAlarmProbeRunsInAChild() throws {
        // Two timers of our own around the probe: consecutive IDs show the
        // per-process ID counter (Linux 3.10+) was not advanced by it.
        var first: Int32 = -1, second: Int32 = -1
        guard tc_timer_create(1, 1, 1, 34, 0, 0, &first) == 0 else {
            throw XCTSkip("timer_create: \(KernelErrno(rawValue: errno).nameAndMessage)")
        }
        defer { _ = tc_timer_delete(first) }
        let before = try ProcTimersParser.parse(try ProcFS.readTimers(pid: getpid()))
        let feature = HostFeatures.alarmClocks()
        let after = try ProcTimersParser.parse(try ProcFS.readTimers(pid: getpid()))
        XCTAssertEqual(before, after)
        XCTAssertEqual(tc_timer_create(1, 1, 1, 34, 0, 0, &second), 0)
        defer { _ = tc_timer_delete(second) }
        XCTAssertEqual(second, first + 1, "the probe moved this process's timer ID counter")
        if !feature.ok {
            XCTAssertTrue(["EOPNOTSUPP", "EPERM", "EINVAL"].contains { feature.detail.contains($0) }, feature.detail)
            print("alarm clocks here: \(feature.detail)")
        }
    }
}
