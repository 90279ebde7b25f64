import XCTest
import TimerCore
import TimerFormats
import TimerComparison
@testable import ModelKernel

/// The ID sequences of docs/kernel-facts.md sections 2 and 3, per profile.
final class IDAllocationTests: XCTestCase {
    let none = Sigevent(.none, signal: 0)

    private func create(_ p: ModelProcess, clock: Int32 = 0, _ ev: Sigevent? = nil, id: Int32 = 0) -> String {
        do { return String(try p.timerCreate(clock: ClockID(clock), sigevent: ev, idBuffer: id)) }
        catch { return error.name }
    }

    func testCreateDeleteNextOnEveryProfile() throws {
        let expectedNext: [KernelProfile: Int32] = [
            .linux26: 1, .linux310: 3, .linux615: 3, .rfdCursor: 3, .rfdDense: 1,
        ]
        for profile in KernelProfile.allCases {
            let p = ModelKernel(profile: profile).spawnProcess()
            XCTAssertEqual(try p.timerCreate(clock: .realtime, sigevent: nil), 0, "\(profile)")
            XCTAssertEqual(try p.timerCreate(clock: .realtime, sigevent: nil), 1, "\(profile)")
            XCTAssertEqual(try p.timerCreate(clock: .realtime, sigevent: nil), 2, "\(profile)")
            try p.timerDelete(1)
            XCTAssertEqual(try p.timerCreate(clock: .realtime, sigevent: nil), expectedNext[profile], "\(profile)")
            XCTAssertEqual(p.liveTimerCount, 3)
        }
    }

    func testCounterProfilesDoNotReuseUntilWrap() throws {
        for profile in [KernelProfile.linux310, .linux615, .rfdCursor] {
            let p = ModelKernel(profile: profile).spawnProcess()
            for expected in Int32(0)..<100 {
                let id = try p.timerCreate(clock: .monotonic, sigevent: none)
                XCTAssertEqual(id, expected)
                try p.timerDelete(id)
            }
            XCTAssertEqual(p.liveTimerCount, 0)
        }
    }

    func testLinux26SharesOneGlobalLowestFreeSpace() throws {
        let kernel = ModelKernel(profile: .linux26)
        let a = kernel.spawnProcess()
        let b = kernel.spawnProcess()
        XCTAssertEqual(try a.timerCreate(clock: .realtime, sigevent: nil), 0)
        XCTAssertEqual(try b.timerCreate(clock: .realtime, sigevent: nil), 1)
        XCTAssertEqual(try a.timerCreate(clock: .realtime, sigevent: nil), 2)
        // b cannot touch a's timer: it is not one of b's.
        XCTAssertThrowsError(try b.timerDelete(0)) { XCTAssertEqual($0 as? KernelErrno, .EINVAL) }
        try a.timerDelete(0)
        XCTAssertEqual(try b.timerCreate(clock: .realtime, sigevent: nil), 0)
        kernel.exitProcess(a)   // frees 2
        XCTAssertEqual(try b.timerCreate(clock: .realtime, sigevent: nil), 2)
        XCTAssertEqual(try b.timerCreate(clock: .realtime, sigevent: nil), 3)
    }

    func testRfdDenseReusesHolesAndCreatesAtID() throws {
        let p = ModelKernel(profile: .rfdDense).spawnProcess()
        XCTAssertEqual(try p.prctlRestoreIDs(.on), 0)
        XCTAssertEqual(try p.timerCreate(clock: .realtime, sigevent: none, idBuffer: 1000), 1000)
        XCTAssertEqual(create(p, id: 1000), "EBUSY")
        XCTAssertEqual(try p.prctlRestoreIDs(.off), 0)
        // Lowest free first: 0, 1, ..., and 1000 is skipped.
        for expected in Int32(0)..<1000 { XCTAssertEqual(try p.timerCreate(clock: .realtime, sigevent: none), expected) }
        XCTAssertEqual(try p.timerCreate(clock: .realtime, sigevent: none), 1001)
        try p.timerDelete(500)
        try p.timerDelete(7)
        XCTAssertEqual(try p.timerCreate(clock: .realtime, sigevent: none), 7)
        XCTAssertEqual(try p.timerCreate(clock: .realtime, sigevent: none), 500)
        XCTAssertEqual(try p.timerCreate(clock: .realtime, sigevent: none), 1002)
    }

    /// Measured on the host (docs/kernel-facts.md section 3 and docs/model-kernel.md).
    func testCreateAtIDMovesTheCounter() throws {
        let p = ModelKernel(profile: .linux615).spawnProcess()
        XCTAssertEqual(try p.prctlRestoreIDs(.get), 0)
        try p.prctlRestoreIDs(.on)
        XCTAssertEqual(try p.prctlRestoreIDs(.get), 1)
        XCTAssertEqual(create(p, none, id: 100), "100")
        XCTAssertEqual(create(p, none, id: 5), "5")
        try p.prctlRestoreIDs(.off)
        XCTAssertEqual(create(p, none), "6")   // the counter moved down to 5+1

        let q = ModelKernel(profile: .linux615).spawnProcess()
        try q.prctlRestoreIDs(.on)
        XCTAssertEqual(create(q, none, id: Int32.max), "2147483647")
        try q.prctlRestoreIDs(.off)
        XCTAssertEqual(create(q, none), "0")   // wraps
        XCTAssertEqual(create(q, none), "1")
    }

    func testCreateAtIDFailures() throws {
        // EBUSY leaves the counter alone (measured: 0..4 live, EBUSY at 1, next 5).
        let p = ModelKernel(profile: .linux615).spawnProcess()
        for _ in 0..<5 { _ = create(p, none) }
        try p.prctlRestoreIDs(.on)
        XCTAssertEqual(create(p, none, id: 1), "EBUSY")
        XCTAssertEqual(create(p, none, id: -1), "EINVAL")
        try p.prctlRestoreIDs(.off)
        XCTAssertEqual(create(p, none), "5")

        // A create that fails after taking the wanted ID still moves the
        // counter (measured: bad signal at 100, then a plain create gets 101).
        let q = ModelKernel(profile: .linux615).spawnProcess()
        try q.prctlRestoreIDs(.on)
        XCTAssertEqual(create(q, Sigevent(.signal, signal: 0), id: 100), "EINVAL")
        XCTAssertEqual(create(q, clock: -1, none, id: 7), "EINVAL")
        try q.prctlRestoreIDs(.off)
        XCTAssertEqual(create(q, none), "8")

        // The clock is looked up before the wanted ID is read.
        let r = ModelKernel(profile: .linux615).spawnProcess()
        try r.prctlRestoreIDs(.on)
        XCTAssertEqual(create(r, clock: 4, none, id: -1), "EOPNOTSUPP")
        XCTAssertEqual(create(r, clock: 10, none, id: -1), "EINVAL")
        XCTAssertEqual(create(r, clock: -5, none, id: -1), "EOPNOTSUPP")
        XCTAssertEqual(create(r, clock: -1, none, id: -1), "EINVAL")
    }

    func testPrctlAndCursorPerProfile() throws {
        for profile in KernelProfile.allCases {
            let p = ModelKernel(profile: profile).spawnProcess()
            let prctl: String
            do { prctl = String(try p.prctlRestoreIDs(.get)) } catch { prctl = error.name }
            let cursor: String
            do { try p.writeTimerIDCursor(10); cursor = "0" } catch { cursor = error.name }
            switch profile {
            case .linux615, .rfdDense: XCTAssertEqual(prctl, "0", "\(profile)")
            default: XCTAssertEqual(prctl, "EINVAL", "\(profile)")
            }
            XCTAssertEqual(cursor, profile == .rfdCursor ? "0" : "ENOENT", "\(profile)")
        }
    }

    func testCursorSetsWhereTheCounterContinues() throws {
        let p = ModelKernel(profile: .rfdCursor).spawnProcess()
        try p.writeTimerIDCursor(123_456)
        XCTAssertEqual(create(p, none), "123456")
        XCTAssertEqual(create(p, none), "123457")
        try p.writeTimerIDCursor(123_456)      // live: the counter skips it
        XCTAssertEqual(create(p, none), "123458")
        try p.writeTimerIDCursor(Int32.max)
        XCTAssertEqual(create(p, none), "2147483647")
        XCTAssertEqual(create(p, none), "0")
        XCTAssertThrowsError(try p.writeTimerIDCursor(-1)) { XCTAssertEqual($0 as? KernelErrno, .EINVAL) }
        p.dropCapability(.checkpointRestore)
        XCTAssertThrowsError(try p.writeTimerIDCursor(5)) { XCTAssertEqual($0 as? KernelErrno, .EPERM) }
        // EPERM is checked before the value.
        XCTAssertThrowsError(try p.writeTimerIDCursor(-1)) { XCTAssertEqual($0 as? KernelErrno, .EPERM) }
    }

    func testCounterWrapsAtIntMaxAndSkipsLiveIDs() throws {
        let p = ModelKernel(profile: .linux310).spawnProcess()
        XCTAssertEqual(create(p, none), "0")
        XCTAssertEqual(create(p, none), "1")
        p.setTimerIDCounterForTesting(UInt32(Int32.max))
        XCTAssertEqual(create(p, none), "2147483647")
        XCTAssertEqual(create(p, none), "2")    // wrapped; 0 and 1 are live
        // The unsigned counter passing 2^32 wraps the same way (INT_MAX is
        // live: skipped; then 0, 1, 2 are live).
        p.setTimerIDCounterForTesting(UInt32.max - 1)
        XCTAssertEqual(create(p, none), "2147483646")
        XCTAssertEqual(create(p, none), "3")
    }

    /// The measured sweep (docs/kernel-facts.md section 2): clocks -10...16 in order in
    /// a fresh process; failures after the ID is taken consume it.
    func testClockSweepConsumesIDsLikeTheHost() {
        let p = ModelKernel(profile: .linux615).spawnProcess()
        let results = (Int32(-10)...16).map { create(p, clock: $0) }
        XCTAssertEqual(results.joined(separator: " "),
                       "EINVAL EINVAL 2 3 4 EOPNOTSUPP 5 6 7 EINVAL 9 10 11 12 EOPNOTSUPP EOPNOTSUPP EOPNOTSUPP 13 "
                       + "EOPNOTSUPP EOPNOTSUPP EINVAL 16 EINVAL EINVAL EINVAL EINVAL EINVAL")
    }

    func testSigeventValidationConsumesIDs() {
        let p = ModelKernel(profile: .linux615).spawnProcess(extraThreads: 1)
        let own = p.threadIDs[1]
        let results = [
            create(p, Sigevent(.threadID, signal: 0, threadID: 1)),    // not our thread
            create(p, Sigevent(.threadID, signal: 0, threadID: own)),  // signal 0
            create(p, Sigevent(.threadID, signal: 65, threadID: own)),
            create(p, Sigevent(.threadID, signal: 64, threadID: own)),
            create(p, Sigevent(notify: 5, signal: 10)),                // NONE|THREAD_ID
            create(p, Sigevent(.none, signal: -1)),
            create(p, Sigevent(notify: 3, signal: 10)),
            create(p, Sigevent(.thread, signal: 10)),
        ]
        XCTAssertEqual(results, ["EINVAL", "EINVAL", "EINVAL", "3", "EINVAL", "5", "EINVAL", "7"])
    }

    func testCPUClocksNamingOtherPids() {
        let kernel = ModelKernel(profile: .linux615)
        let p = kernel.spawnProcess()
        let other = kernel.spawnProcess(extraThreads: 1)
        let nowhere = ClockID.cpuClock(pid: 5_000_000, perThread: false, type: .sched).rawValue
        let results = [-14, -10, -12, -16, -15, -13, nowhere, 0].map { create(p, clock: $0) }
        XCTAssertEqual(results, ["0", "EINVAL", "EINVAL", "3", "4", "EOPNOTSUPP", "EINVAL", "6"])
        // Another model process's CPU clock works; its thread's (not ours) does not.
        let otherProcess = ClockID.cpuClock(pid: other.processID, perThread: false, type: .sched)
        let otherThread = ClockID.cpuClock(pid: other.threadIDs[1], perThread: true, type: .sched)
        let otherThreadAsProcess = ClockID.cpuClock(pid: other.threadIDs[1], perThread: false, type: .sched)
        XCTAssertEqual(create(p, clock: otherProcess.rawValue), "7")
        XCTAssertEqual(create(p, clock: otherThread.rawValue), "EINVAL")
        XCTAssertEqual(create(p, clock: otherThreadAsProcess.rawValue), "EINVAL")
        kernel.exitProcess(other)
        XCTAssertEqual(create(p, clock: otherProcess.rawValue), "EINVAL")
    }

    func testAlarmClocks() {
        let kernel = ModelKernel(profile: .linux615)
        let p = kernel.spawnProcess(capabilities: [])
        XCTAssertEqual(create(p, clock: 8), "EOPNOTSUPP")
        kernel.hasRTC = true
        XCTAssertEqual(create(p, clock: 9), "EPERM")
        let q = kernel.spawnProcess(capabilities: [.wakeAlarm])
        XCTAssertEqual(create(q, clock: 8), "0")
        XCTAssertEqual(create(p, clock: 0), "2")   // two IDs consumed by the failures
    }

    func testSigpendingIsPerUserAndEAGAINTakesNoID() throws {
        let kernel = ModelKernel(profile: .linux615, sigpendingLimit: 10)
        let a = kernel.spawnProcess()
        let b = kernel.spawnProcess()
        for _ in 0..<7 { _ = try a.timerCreate(clock: .realtime, sigevent: none) }
        for _ in 0..<3 { _ = try b.timerCreate(clock: .realtime, sigevent: none) }
        XCTAssertEqual(create(b, none), "EAGAIN")
        XCTAssertEqual(create(a, none), "EAGAIN")
        // Create-at-ID mode: the wanted ID is read before the sigqueue.
        try b.prctlRestoreIDs(.on)
        XCTAssertEqual(create(b, none, id: -1), "EINVAL")
        XCTAssertEqual(create(b, none, id: 50), "EAGAIN")
        try b.prctlRestoreIDs(.off)
        try a.timerDelete(0)
        XCTAssertEqual(create(b, none), "3")   // no ID was consumed by the EAGAINs
        XCTAssertEqual(kernel.sigpendingCount, 10)
        kernel.exitProcess(a)
        XCTAssertEqual(kernel.sigpendingCount, 4)
        XCTAssertEqual(create(a, none), "ESRCH")
    }

    func testDefaultSigpendingLimitIsTheHosts() {
        XCTAssertEqual(ModelKernel(profile: .linux615).sigpendingLimit, 96_365)
    }

    func testDroppedProcessReleasesItsSigqueues() throws {
        let kernel = ModelKernel(profile: .linux615, sigpendingLimit: 5)
        do {
            let p = kernel.spawnProcess()
            for _ in 0..<5 { _ = try p.timerCreate(clock: .realtime, sigevent: nil) }
            XCTAssertEqual(kernel.sigpendingCount, 5)
        }
        XCTAssertEqual(kernel.sigpendingCount, 0)
    }

    func testManyTimersStressAgainstASimpleReference() throws {
        // The hash table and the pending fast path against a Set.
        var rng = SystemRandomNumberGenerator()
        let p = ModelKernel(profile: .linux615, sigpendingLimit: .max).spawnProcess()
        var live = Set<Int32>()
        for step in 0..<200_000 {
            if live.isEmpty || Int.random(in: 0..<3, using: &rng) != 0 {
                let id = try p.timerCreate(clock: .monotonic, sigevent: none)
                XCTAssertFalse(live.contains(id))
                live.insert(id)
            } else {
                let id = step % 4 == 0 ? live.randomElement(using: &rng)! : Int32.random(in: 0...Int32(step), using: &rng)
                let deleted = (try? p.timerDelete(id)) != nil
                XCTAssertEqual(deleted, live.contains(id))
                live.remove(id)
            }
        }
        XCTAssertEqual(p.liveTimerCount, live.count)
        XCTAssertEqual(Set(p.procTimers().map(\.id)), live)
        for id in live { XCTAssertNoThrow(try p.timerGettime(id)) }
    }
}

extension Error {
    var name: String { (self as? KernelErrno)?.name ?? "\(self)" }
}

final class ModelFootprintTests: XCTestCase {
    /// The budget is 150 bytes per timer at 1,000,000 timers; the
    /// storage is linear, so 100,000 show the per-timer figure (the release
    /// benchmark in docs/model-kernel.md measures peak RSS at 1,000,000).
    func testStorageStaysUnder150BytesPerTimer() throws {
        let p = ModelKernel(profile: .linux615, sigpendingLimit: .max).spawnProcess()
        let n = 100_000
        for _ in 0..<n { _ = try p.timerCreate(clock: .monotonic, sigevent: nil) }
        XCTAssertLessThanOrEqual(Double(p.timerStorageBytes) / Double(n), 150)
        XCTAssertEqual(p.liveTimerCount, n)
        // A dance's create+delete pairs leave nothing behind.
        for _ in 0..<10_000 { try p.timerDelete(try p.timerCreate(clock: .monotonic, sigevent: nil)) }
        XCTAssertEqual(p.liveTimerCount, n)
        XCTAssertEqual(p.timerIDCounter, UInt32(n + 10_000))
    }
}
