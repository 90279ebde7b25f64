// restore --into PID on the real kernel: timers put, at their IDs, into a
// process that is already running, by the target's own syscalls (injection).
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HostKernel
import TestSupport
import TimerCore
import TimerFormats
import TimerComparison
import XCTest

final class LiveRestoreTests: XCTestCase {
    var work: URL!

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("tc-into-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: work)
    }

    /// Skips (with the reason) where this machine does not allow ptrace or lacks create-at-ID.
    func requireInjection() throws {
        let probe = try FixtureProcess(["id=1"])
        defer { probe.stop() }
        var batch = SyscallBatch()
        batch.add(39, [])  // getpid
        do {
            try InjectionSession.runOnce(pid: probe.pid, &batch)
        } catch {
            throw XCTSkip("ptrace injection not possible here: \(error)")
        }
        XCTAssertEqual(batch.result(0), Int64(probe.pid), "the injected getpid must answer the target's pid")
        if HostFeatures.createAtID().ok != true { throw XCTSkip("the host kernel has no create-at-ID (Linux 6.15+)") }
    }

    func procTimers(_ pid: Int32) throws -> [ProcTimer] {
        try ProcTimersParser.parse(try ProcFS.readTimers(pid: pid))
    }

    func assertRunningUntraced(_ pid: Int32, file: StaticString = #filePath, line: UInt = #line) {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        XCTAssertTrue(status.contains("TracerPid:\t0\n"), "left traced", file: file, line: line)
        XCTAssertFalse(status.contains("State:\tt") || status.contains("State:\tT"), "left stopped", file: file, line: line)
        for task in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? [] {
            let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8)) ?? ""
            XCTAssertTrue(text.contains("TracerPid:\t0\n"), "thread \(task) left traced", file: file, line: line)
            XCTAssertFalse(text.contains("State:\tt"), "thread \(task) left stopped", file: file, line: line)
        }
    }

    /// A checkpoint of `count` monotonic timers from `first` on, each armed at 30 s.
    func writeCheckpoint(ids: [Int32], name: String = "c.json") throws -> String {
        let timers = ids.map {
            "{\"id\": \($0), \"clock_id\": 1, \"clock\": \"monotonic\", \"signal\": 14, \"sigev_value\": \"0x0000000000000000\", "
                + "\"notify\": \"signal\", \"notify_target\": 4242, \"value_ns\": 30000000000, \"interval_ns\": 0, \"overrun\": 0}"
        }
        let text = "{\"format\": \"timer-criu/1\", \"pid\": 4242, \"kernel\": \"test\", \"threads\": [4242], \"timers\": [\n"
            + timers.joined(separator: ",\n") + "\n], \"warnings\": []}\n"
        let path = work.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testTwoThreadProcessGetsEveryTimerExactlyAndItsOwnAreLeftAlone() throws {
        try requireInjection()
        let source = try FixtureProcess(["--threads", "1",
            "id=100,notify=thread_id,target=thread1,signal=40,value=0x1234,arm=10s,interval=1s",
            "id=101,clock=boottime,notify=none,arm=50s", "id=102,clock=realtime,signal=12,value=77"])
        defer { source.stop() }
        let checkpoint = work.appendingPathComponent("a.json").path
        let dump = try runTimerCRIU(["dump", "\(source.pid)", "--values", "-o", checkpoint])
        XCTAssertEqual(dump.status, 0, dump.stderr)
        let target = try FixtureProcess(["--threads", "1", "id=5"])
        defer { target.stop() }
        let restore = try runTimerCRIU(["restore", checkpoint, "--into", "\(target.pid)"])
        XCTAssertEqual(restore.status, 0, restore.stderr + restore.stdoutText)
        XCTAssertTrue(restore.stdoutText.contains("verified: /proc/\(target.pid)/timers matches the checkpoint"), restore.stdoutText)
        XCTAssertTrue(restore.stdoutText.contains("1 timer(s) of the process itself, left alone: IDs 5"), restore.stdoutText)
        XCTAssertTrue(restore.stdoutText.contains("timer ID counter of process \(target.pid) is now at 103"), restore.stdoutText)
        assertRunningUntraced(target.pid)

        let shown = Dictionary(uniqueKeysWithValues: try procTimers(target.pid).map { ($0.id, $0) })
        XCTAssertEqual(Set(shown.keys), [5, 100, 101, 102])
        let thread = try XCTUnwrap(shown[100])
        XCTAssertEqual(thread.notify, .threadID)
        XCTAssertEqual(thread.notifyTarget, target.threads[0], "the thread_id timer aims at the target's mapped thread")
        XCTAssertEqual(thread.signal, 40)
        XCTAssertEqual(thread.sigevValue, 0x1234)
        XCTAssertEqual(thread.clockID.rawValue, 1)
        XCTAssertEqual(shown[101]?.clockID.rawValue, 7)
        XCTAssertEqual(shown[101]?.notify, NotifyMode.none)
        XCTAssertEqual(shown[102]?.clockID.rawValue, 0)
        XCTAssertEqual(shown[102]?.signal, 12)
        XCTAssertEqual(shown[102]?.sigevValue, 77)
        XCTAssertEqual(shown[102]?.notifyTarget, target.pid)

        // Values armed as dumped: read back by injection (dump --values of the target).
        let after = work.appendingPathComponent("b.json").path
        let reread = try runTimerCRIU(["dump", "\(target.pid)", "--values", "-o", after])
        XCTAssertEqual(reread.status, 0, reread.stderr)
        let values = try CheckpointSource.load(path: after)
        let byID = Dictionary(uniqueKeysWithValues: values.timers.map { ($0.id, $0) })
        XCTAssertEqual(byID[100]?.intervalNanoseconds, 1_000_000_000)
        XCTAssertGreaterThan(byID[100]?.valueNanoseconds ?? 0, 0)
        XCTAssertLessThanOrEqual(byID[100]?.valueNanoseconds ?? .max, 10_000_000_000)
        XCTAssertGreaterThan(byID[101]?.valueNanoseconds ?? 0, 40_000_000_000)
        XCTAssertEqual(byID[102]?.valueNanoseconds, 0, "a disarmed timer stays disarmed")
        XCTAssertEqual(byID[5]?.valueNanoseconds, 0, "the target's own timer is untouched")
    }

    func testAnIDAlreadyLiveInTheTargetIsRefusedAndNothingChanges() throws {
        try requireInjection()
        let checkpoint = try writeCheckpoint(ids: [100, 101, 102])
        let target = try FixtureProcess(["id=101", "id=7"])
        defer { target.stop() }
        let before = try ProcFS.readTimers(pid: target.pid)
        let restore = try runTimerCRIU(["restore", checkpoint, "--into", "\(target.pid)"])
        XCTAssertEqual(restore.status, 1)
        XCTAssertEqual(restore.stderr, "timer-criu: timer ID(s) 101 of the checkpoint already live in process \(target.pid): refused, nothing changed\n")
        XCTAssertEqual(restore.stdoutText, "")
        XCTAssertEqual(try ProcFS.readTimers(pid: target.pid), before)
        assertRunningUntraced(target.pid)
    }

    func testATargetWithTooFewThreadsIsRefusedBeforeAnySyscall() throws {
        try requireInjection()
        let source = try FixtureProcess(["--threads", "2", "id=10,notify=thread_id,target=thread2"])
        defer { source.stop() }
        let checkpoint = work.appendingPathComponent("a.json").path
        XCTAssertEqual(try runTimerCRIU(["dump", "\(source.pid)", "-o", checkpoint]).status, 0)
        let target = try FixtureProcess(["--threads", "1", "id=5"])
        defer { target.stop() }
        let before = try ProcFS.readTimers(pid: target.pid)
        let restore = try runTimerCRIU(["restore", checkpoint, "--into", "\(target.pid)"])
        XCTAssertEqual(restore.status, 1)
        XCTAssertTrue(restore.stderr.hasPrefix("timer-criu: the checkpoint needs 2 thread(s) besides the main one"), restore.stderr)
        XCTAssertTrue(restore.stderr.contains("process \(target.pid) has 1: refused, nothing changed"), restore.stderr)
        XCTAssertEqual(restore.stderr.filter { $0 == "\n" }.count, 1, "one line")
        XCTAssertEqual(try ProcFS.readTimers(pid: target.pid), before)
        // --thread-map puts the checkpoint's second extra thread onto the target's only one.
        let mapped = try runTimerCRIU(["restore", checkpoint, "--into", "\(target.pid)",
                                       "--thread-map", "\(source.threads[1])=\(target.threads[0])"])
        XCTAssertEqual(mapped.status, 0, mapped.stderr + mapped.stdoutText)
        XCTAssertEqual(try procTimers(target.pid).first { $0.id == 10 }?.notifyTarget, target.threads[0])
        assertRunningUntraced(target.pid)
    }

    func testAFailurePartWayIsRolledBack() throws {
        try requireInjection()
        let ids = (0..<40).map { Int32(1000 + $0) }
        let checkpoint = try writeCheckpoint(ids: ids)
        let target = try FixtureProcess(["id=5"])
        defer { target.stop() }
        // RLIMIT_SIGPENDING is checked against the creating task's limit and its
        // user's count (docs/kernel-facts.md section 2): leave the target room for 20.
        let pending = try XCTUnwrap(ProcFS.status(pid: target.pid)?.signalQueue?.queued)
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit") else { throw XCTSkip("no /usr/bin/prlimit (util-linux)") }
        let set = try runCommand("/usr/bin/prlimit", ["--pid", "\(target.pid)", "--sigpending=\(pending + 20):\(pending + 20)"])
        guard set.status == 0 else { throw XCTSkip("prlimit --sigpending of the target: \(set.stderr)") }
        let restore = try runTimerCRIU(["restore", checkpoint, "--into", "\(target.pid)", "--strategy", "create-at-id"])
        XCTAssertEqual(restore.status, 1, restore.stdoutText)
        XCTAssertTrue(restore.stdoutText.contains("EAGAIN"), restore.stdoutText)
        XCTAssertTrue(restore.stdoutText.contains("rolled back: deleted the "), restore.stdoutText)
        XCTAssertFalse(restore.stdoutText.contains("rolled back: deleted the 0 timer"), "the failure should come part-way: \(restore.stdoutText)")
        XCTAssertEqual(try procTimers(target.pid).map(\.id), [5], "none of the checkpoint's timers is left")
        assertRunningUntraced(target.pid)
        // Create-at-ID mode is off again in the target: ask it (prctl GET, injected).
        var batch = SyscallBatch()
        batch.add(157, [.value(77), .value(2), .value(0), .value(0), .value(0)])
        try InjectionSession.runOnce(pid: target.pid, &batch)
        XCTAssertEqual(batch.result(0), 0, "PR_TIMER_CREATE_RESTORE_IDS must be off after the roll-back")
    }

    func testAThreadCreatingTimersMeanwhileNeverGetsAStaleID() throws {
        try requireInjection()
        let base: Int32 = 2_000_000_000
        let checkpoint = try writeCheckpoint(ids: (0..<2048).map { base + $0 })
        for round in 0..<3 {
            let target = try TargetProcess(["--churn", "\(base)"])
            defer { target.terminate() }
            let first = try target.status()
            let restore = try runTimerCRIU(["restore", checkpoint, "--into", "\(target.pid)"])
            XCTAssertEqual(restore.status, 0, "round \(round): " + restore.stderr + restore.stdoutText)
            let after = try target.status()
            XCTAssertTrue(after.line.contains(" stolen=0"), "round \(round): the churning thread got a wanted ID: \(after.line)")
            let churns = { (line: String) in Int(line.split(separator: " ").first { $0.hasPrefix("churns=") }?.dropFirst(7) ?? "") ?? -1 }
            XCTAssertGreaterThan(churns(after.line), churns(first.line), "the churning thread did not run: \(after.line)")
            // /proc/PID/timers is read a page at a time: while the churning
            // thread creates and deletes, a listing can miss entries. Read it stopped.
            kill(target.pid, SIGSTOP)
            var tries = 0
            while target.procState.state != "T" && tries < 200 { usleep(5000); tries += 1 }
            let live = Set(try procTimers(target.pid).map(\.id))
            kill(target.pid, SIGCONT)
            XCTAssertTrue(live.isSuperset(of: (0..<2048).map { base + $0 }), "round \(round)")
            let (state, tracer) = target.procState
            XCTAssertEqual(tracer, 0)
            XCTAssertFalse(state == "t" || state == "T")
        }
    }

    func testRefusalsAreOneLine() throws {
        let checkpoint = try writeCheckpoint(ids: [1])
        let gone = try runTimerCRIU(["restore", checkpoint, "--into", "999999999"])
        XCTAssertEqual(gone.status, 1)
        XCTAssertEqual(gone.stderr, "timer-criu: no process with pid 999999999\n")
        let kthread = try runTimerCRIU(["restore", checkpoint, "--into", "2"])
        XCTAssertEqual(kthread.status, 1)
        XCTAssertEqual(kthread.stderr, "timer-criu: process 2 is a kernel thread: it has no timers and cannot be traced\n")
        let usage = try runTimerCRIU(["restore", checkpoint, "--into", "1", "--kernel", "host"])
        XCTAssertEqual(usage.status, 64)
        let map = try runTimerCRIU(["restore", checkpoint, "--into", "1", "--thread-map", "x"])
        XCTAssertEqual(map.status, 64)
    }
}
