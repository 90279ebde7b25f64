import ModelKernel
import TimerCore
import TimerFormats
import TimerComparison
import XCTest

/// How a checkpoint is mapped onto the restored process (RestorePlan), run
/// through Restorer on the model: thread_id targets, dead notify threads,
/// CPU clocks naming pids/tids; and a restore that fails part way saying
/// exactly which timers exist.
final class RestorePlanTests: XCTestCase {
    static let pid: Int32 = 500

    static func timer(_ id: Int32, clock: ClockID = .monotonic, notify: NotifyMode = .signal,
                      target: Int32 = pid, exited: Bool = false) -> CheckpointTimer {
        var timer = CheckpointTimer(id: id, clockID: clock, signal: 40, sigevValue: 0xbeef, notify: notify,
                                    notifyTarget: target)
        timer.notifyTargetExited = exited
        return timer
    }

    func restore(_ checkpoint: Checkpoint, profile: KernelProfile = .linux615, strategy: RestoreStrategy = .auto,
                 deadThreadNotify: DeadThreadNotifyPolicy = .none, sigpendingLimit: Int = 96_365)
        -> (ModelProcess, RestoreReport)
    {
        let kernel = ModelKernel(profile: profile, sigpendingLimit: sigpendingLimit)
        let process = kernel.spawnProcess(extraThreads: RestorePlan.requiredExtraThreads(for: checkpoint))
        let report = Restorer.restore(checkpoint, into: process,
                                      options: .init(strategy: strategy, deadThreadNotify: deadThreadNotify))
        return (process, report)
    }

    // MARK: threads

    func testThreadIDTargetsMappedToTheRestoredThreads() throws {
        let checkpoint = Checkpoint(pid: Self.pid, kernel: "x", threads: [500, 501, 502, 503], timers: [
            Self.timer(1, notify: .threadID, target: 502),
            Self.timer(2, notify: .threadID, target: 501),
            Self.timer(3, notify: .threadID, target: 500),
            Self.timer(4, notify: .threadID, target: 502),
            Self.timer(5, notify: .signal, target: 500),
        ])
        XCTAssertEqual(RestorePlan.requiredExtraThreads(for: checkpoint), 2, "501 and 502; 503 is no target")
        let (process, report) = restore(checkpoint)
        XCTAssertTrue(report.ok, report.error?.message ?? "")
        XCTAssertEqual(process.threadIDs.count, 3)
        let (main, t1, t2) = (process.processID, process.threadIDs[1], process.threadIDs[2])
        // Checkpoint thread order: 501 -> first new thread, 502 -> second.
        XCTAssertEqual(process.procTimers().sorted { $0.id < $1.id }.map(\.notifyTarget), [t2, t1, main, t2, main])
        XCTAssertEqual(report.timers.map(\.notifyTarget), [t2, t1, main, t2, main])
        XCTAssertEqual(report.timers.map(\.notify), [.threadID, .threadID, .threadID, .threadID, .signal])
    }

    func testDeadNotifyThreadRestoredAsSigevNoneWithAWarning() throws {
        let checkpoint = Checkpoint(pid: Self.pid, kernel: "x", threads: [500], timers: [
            Self.timer(7, notify: .threadID, target: 777, exited: true),
            Self.timer(8),
        ])
        XCTAssertEqual(RestorePlan.requiredExtraThreads(for: checkpoint), 0)
        let (process, report) = restore(checkpoint, deadThreadNotify: .none)
        XCTAssertTrue(report.ok, report.error?.message ?? "")
        XCTAssertEqual(report.warnings, ["timer 7: notify thread 777 had exited; restored as SIGEV_NONE"])
        XCTAssertEqual(process.procTimers().first { $0.id == 7 }?.notify, NotifyMode.none)
        XCTAssertEqual(process.procTimers().first { $0.id == 7 }?.notifyTarget, process.processID)
        // Warnings go to stderr (warningLines), not into the stdout text.
        XCTAssertFalse(report.humanText.contains("warning"))
        XCTAssertEqual(report.warningLines(process: 5), "timer-criu: warning: process 5: timer 7: notify thread 777 had exited; restored as SIGEV_NONE\n")
    }

    func testDeadNotifyThreadFailRefusesBeforeAnySyscall() throws {
        let checkpoint = Checkpoint(pid: Self.pid, kernel: "x", threads: [500], timers: [
            Self.timer(3), Self.timer(7, notify: .threadID, target: 777, exited: true),
        ])
        let (process, report) = restore(checkpoint, deadThreadNotify: .fail)
        XCTAssertEqual(report.error?.code, .planRefused)
        XCTAssertEqual(report.error?.message,
                       "timer 7: notify thread 777 no longer exists (use --dead-thread-notify none to restore it as SIGEV_NONE)")
        XCTAssertEqual(report.syscalls.total, 0, "no syscall")
        XCTAssertEqual(process.liveTimerCount, 0)
        XCTAssertEqual(report.timers, [])
    }

    // MARK: CPU clocks

    func testCPUClocksOfTheCheckpointsOwnPidAndTidsAreRewritten() throws {
        let ownProcess = ClockID.cpuClock(pid: 500, perThread: false, type: .sched)
        let ownThread = ClockID.cpuClock(pid: 501, perThread: true, type: .prof)
        let mainThread = ClockID.cpuClock(pid: 500, perThread: true, type: .virt)
        let checkpoint = Checkpoint(pid: Self.pid, kernel: "x", threads: [500, 501], timers: [
            Self.timer(1, clock: ownProcess), Self.timer(2, clock: ownThread), Self.timer(3, clock: mainThread),
            Self.timer(4, clock: .processCPUTime),  // -6: pid 0, "this process": unchanged
        ])
        XCTAssertEqual(RestorePlan.requiredExtraThreads(for: checkpoint), 1, "thread 501's clock needs a thread")
        let (process, report) = restore(checkpoint)
        XCTAssertTrue(report.ok, report.error?.message ?? "")
        let pid = process.processID, tid = process.threadIDs[1]
        XCTAssertEqual(report.timers.map(\.clockID), [
            .cpuClock(pid: pid, perThread: false, type: .sched),
            .cpuClock(pid: tid, perThread: true, type: .prof),
            .cpuClock(pid: pid, perThread: true, type: .virt),
            .processCPUTime,
        ])
    }

    /// -14 is pid 1's SCHED clock: pid 1 is not part of the restore.
    func testCPUClockOfAnotherPidIsRefused() throws {
        XCTAssertEqual(ClockID(-14).cpuClockPID, 1)
        let checkpoint = Checkpoint(pid: Self.pid, kernel: "x", threads: [500], timers: [
            Self.timer(1), Self.timer(2, clock: ClockID(-14)),
        ])
        let (process, report) = restore(checkpoint)
        XCTAssertEqual(report.error?.code, .planRefused)
        let message = try XCTUnwrap(report.error?.message)
        XCTAssertTrue(message.hasPrefix("timer 2: clock "), message)
        XCTAssertTrue(message.contains("(-14) counts task 1, which is not part of this restore"), message)
        XCTAssertEqual(report.syscalls.total, 0)
        XCTAssertEqual(process.liveTimerCount, 0)
    }

    /// A clock naming a process restored alongside (a tree) is mapped to it.
    func testCPUClockOfAnotherRestoredProcessIsMapped() throws {
        let checkpoint = Checkpoint(pid: Self.pid, kernel: "x", threads: [500], timers: [
            Self.timer(1, clock: .cpuClock(pid: 600, perThread: false, type: .sched)),
        ])
        let kernel = ModelKernel()
        let other = kernel.spawnProcess()
        let process = kernel.spawnProcess()
        let report = Restorer.restore(checkpoint, into: process, options: .init(otherPIDs: [600: other.processID]))
        XCTAssertTrue(report.ok, report.error?.message ?? "")
        XCTAssertEqual(report.timers.first?.clockID, .cpuClock(pid: other.processID, perThread: false, type: .sched))
    }

    // MARK: failing part way

    /// RLIMIT_SIGPENDING reached after 5 timers: the report lists exactly the
    /// 5 that exist, in create-at-id and in the dance.
    func testEAGAINPartWayReportsExactlyTheTimersThatExist() throws {
        let checkpoint = Checkpoint(pid: Self.pid, kernel: "x", threads: [500],
                                    timers: (0..<8).map { Self.timer(Int32($0) * 10) })
        for strategy in [RestoreStrategy.createAtID, .dance] {
            let (process, report) = restore(checkpoint, strategy: strategy, sigpendingLimit: 5)
            XCTAssertEqual(report.error?.code, .syscallFailed, "\(strategy)")
            XCTAssertTrue(report.error?.message.contains("EAGAIN") == true, report.error?.message ?? "")
            XCTAssertTrue(report.error?.message.contains("50") == true, "names the timer it failed at: \(report.error?.message ?? "")")
            XCTAssertEqual(report.timers.map(\.id), [0, 10, 20, 30, 40], "\(strategy)")
            XCTAssertEqual(report.timers.map(\.id), process.procTimers().map(\.id).sorted())
            XCTAssertEqual(report.differences, [], "a failed restore is not compared")
        }
    }

    /// linux-2.6 hands out the lowest free ID: the dance stops at the first
    /// non-consecutive ID; what exists is exactly what it kept.
    func testDanceOnLinux26StopsAndReportsWhatExists() throws {
        let checkpoint = Checkpoint(pid: Self.pid, kernel: "x", threads: [500],
                                    timers: [Self.timer(0), Self.timer(1), Self.timer(5)])
        let (process, report) = restore(checkpoint, profile: .linux26, strategy: .dance)
        XCTAssertEqual(report.error?.code, .idsNotConsecutive)
        XCTAssertEqual(report.timers.map(\.id), [0, 1])
        XCTAssertEqual(process.procTimers().map(\.id).sorted(), [0, 1])
        XCTAssertTrue(report.humanText.hasPrefix("restore FAILED on linux-2.6 (model) by dance"), report.humanText)
    }

    /// The plan is ascending by ID whatever the checkpoint's order.
    func testPlanIsAscendingByID() throws {
        let checkpoint = Checkpoint(pid: Self.pid, kernel: "x", threads: [500],
                                    timers: [Self.timer(9), Self.timer(2), Self.timer(5)])
        let plan = try RestorePlan(checkpoint: checkpoint, processID: 1000, threadIDs: [1000])
        XCTAssertEqual(plan.timers.map(\.id), [2, 5, 9])
        XCTAssertEqual(plan.timers.map(\.sigevent.threadID), [0, 0, 0])
    }
}

/// A dump warns about everything a restore refuses or
/// changes. Each timer below is one such case; the plan must refuse it or
/// change it, and Checkpoint.warnings must name it. A plain timer gets
/// neither, so the test can tell the two apart.
final class DumpWarnsWhatRestoreDoesTests: XCTestCase {
    func testEveryRefusalOrChangeIsWarned() throws {
        let pid: Int32 = 500, thread: Int32 = 501
        func timer(_ id: Int32, clock: ClockID = .monotonic, notify: NotifyMode = .signal, target: Int32 = 500,
                   value: Int64? = nil, interval: Int64? = nil, overrun: Int32? = nil) -> CheckpointTimer {
            CheckpointTimer(id: id, clockID: clock, signal: 40, sigevValue: 0, notify: notify, notifyTarget: target,
                            valueNanoseconds: value, intervalNanoseconds: interval, overrun: overrun)
        }
        let cases: [(name: String, timer: CheckpointTimer, changed: Bool)] = [
            ("plain", timer(1), false),
            ("plain with values", timer(1, value: 5_000, interval: 0, overrun: 0), false),
            ("own CPU clock", timer(1, clock: .cpuClock(pid: pid, perThread: false, type: .sched)), false),
            ("a thread's CPU clock", timer(1, clock: .cpuClock(pid: thread, perThread: true, type: .sched)), false),
            ("pid 1's CPU clock", timer(1, clock: .cpuClock(pid: 1, perThread: false, type: .sched)), true),
            ("dead notify thread", timer(1, notify: .threadID, target: 999), true),
            ("0 left with an interval", timer(1, value: 0, interval: 10_000_000, overrun: 0), true),
            ("an overrun count", timer(1, value: 5_000, interval: 1_000, overrun: 3), true),
        ]
        for c in cases {
            var checkpointTimer = c.timer
            checkpointTimer.notifyTargetExited = c.timer.notify == .threadID && c.timer.notifyTarget != thread
            let warnings = Checkpoint.warnings(pid: pid, threads: [pid, thread], timers: [checkpointTimer])
            let checkpoint = Checkpoint(pid: pid, kernel: "6.18", threads: [pid, thread], timers: [checkpointTimer],
                                        warnings: warnings)
            var changed: Bool
            do {
                let plan = try RestorePlan(checkpoint: checkpoint, processID: 1000, threadIDs: [1000, 1001])
                let planned = plan.timers[0]
                changed = planned.expected.notify != checkpointTimer.notify
                    || planned.arming.map { $0.valueNanoseconds != checkpointTimer.valueNanoseconds } ?? false
                    || (checkpointTimer.overrun ?? 0) > 0  // no real kernel sets it (Restorer.arm)
            } catch {
                changed = true
            }
            XCTAssertEqual(changed, c.changed, c.name)
            XCTAssertEqual(!warnings.isEmpty, c.changed, "\(c.name): \(warnings)")
        }
    }
}
