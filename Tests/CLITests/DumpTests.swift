import Foundation
import TestSupport
import TimerCore
import TimerFormats
import TimerComparison
import XCTest

/// `timer-criu dump` on real processes: the built binary, run on a
/// timer-fixture with known timers and on coreutils `timeout`.
final class DumpTests: XCTestCase {
    var fixtures: [FixtureProcess] = []

    override func tearDown() {
        for fixture in fixtures { fixture.stop() }
        fixtures = []
        super.tearDown()
    }

    func startFixture(_ arguments: [String]) throws -> FixtureProcess {
        let fixture = try FixtureProcess(arguments)
        fixtures.append(fixture)
        return fixture
    }

    /// Runs `timer-criu dump PID`, checks exit 0, and parses stdout.
    func dump(_ pid: Int32, file: StaticString = #filePath, line: UInt = #line) throws -> (Checkpoint, CommandResult) {
        let result = try runTimerCRIU(["dump", "\(pid)"])
        XCTAssertEqual(result.status, 0, "stderr: \(result.stderr)", file: file, line: line)
        let checkpoint = try Checkpoint(json: Array(result.stdout), path: "stdout")
        return (checkpoint, result)
    }

    var testPID: Int32 { getpid() }

    /// IDs 0, 7, 123456, INT_MAX; every clock of the issue; every notify mode;
    /// sigev values with the high bits set: each field compared.
    func testEveryFieldOfAFixture() throws {
        try skipUnderThreadSanitizer()
        let fixture = try startFixture([
            "id=0,clock=realtime,notify=signal,signal=14",
            "id=7,clock=monotonic,notify=thread_id,target=thread1,signal=40,value=0xdeadbeefcafebabe,arm=30s,interval=1s",
            "id=123456,clock=boottime,notify=none,signal=-1,value=0xffffffffffffffff",
            "id=2147483647,clock=process-cputime,notify=thread,signal=34,value=0x8000000000000001",
            "id=99,clock=thread-cputime,notify=signal,signal=12,value=0x1",
            "id=5,clock=cpu:pid=\(testPID):sched,notify=signal,signal=10,value=0x7fffffffffffffff",
            "id=6,clock=cpu:pid=\(testPID):prof,notify=none,signal=12345",
        ])
        let pid = fixture.pid
        XCTAssertEqual(fixture.threads.count, 1)
        let helper = fixture.threads[0]
        XCTAssertEqual(fixture.timerIDs, [0, 7, 123456, 2147483647, 99, 5, 6])

        let (checkpoint, result) = try dump(pid)
        XCTAssertEqual(checkpoint.format, "timer-criu/2")
        XCTAssertEqual(checkpoint.pid, pid)
        XCTAssertEqual(checkpoint.kernel, try String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertEqual(checkpoint.threads, [pid, helper])
        let cpuSched = ClockID.cpuClock(pid: testPID, perThread: false, type: .sched)
        let cpuProf = ClockID.cpuClock(pid: testPID, perThread: false, type: .prof)
        XCTAssertEqual(checkpoint.timers, [
            CheckpointTimer(id: 0, clockID: .realtime, signal: 14, sigevValue: 0, notify: .signal, notifyTarget: pid),
            CheckpointTimer(id: 5, clockID: cpuSched, signal: 10, sigevValue: 0x7fff_ffff_ffff_ffff, notify: .signal,
                            notifyTarget: pid),
            CheckpointTimer(id: 6, clockID: cpuProf, signal: 12345, sigevValue: 0, notify: .none, notifyTarget: pid),
            CheckpointTimer(id: 7, clockID: .monotonic, signal: 40, sigevValue: 0xdead_beef_cafe_babe,
                            notify: .threadID, notifyTarget: helper),
            CheckpointTimer(id: 99, clockID: .threadCPUTime, signal: 12, sigevValue: 1, notify: .signal,
                            notifyTarget: pid),
            CheckpointTimer(id: 123456, clockID: .boottime, signal: -1, sigevValue: .max, notify: .none,
                            notifyTarget: pid),
            CheckpointTimer(id: 2147483647, clockID: .processCPUTime, signal: 34, sigevValue: 0x8000_0000_0000_0001,
                            notify: .thread, notifyTarget: pid),
        ])
        // The fixture has two threads, so the thread-cputime timer is ambiguous;
        // the clocks of the test process are refused by a restore of the fixture alone.
        let warnings = [5, 6].map { id in
            "timer \(id): clock \(id == 5 ? cpuSched.name : cpuProf.name) (\((id == 5 ? cpuSched : cpuProf).rawValue)) counts task "
                + "\(testPID), which is not process \(pid) or one of its threads: restore refuses it unless task \(testPID) is restored in the same tree"
        } + ["timer 99: thread-cputime clock in a process with 2 threads; /proc does not say which thread's CPU time it counts"]
        XCTAssertEqual(checkpoint.warnings, warnings)
        XCTAssertEqual(result.stderrLines, warnings.map { "timer-criu: warning: " + $0 } + [itimersNotReadNote])

        // The text itself: names, hex spelling, ID order.
        let text = result.stdoutText
        XCTAssertTrue(text.contains(#"{"id": 5, "clock_id": \#(cpuSched.rawValue), "clock": "cpu:pid=\#(testPID):sched", "signal": 10, "sigev_value": "0x7fffffffffffffff", "notify": "signal", "notify_target": \#(pid)}"#), text)
        XCTAssertTrue(text.contains(#""clock": "cpu:pid=\#(testPID):prof""#))
        XCTAssertTrue(text.contains(#"{"id": 123456, "clock_id": 7, "clock": "boottime", "signal": -1, "sigev_value": "0xffffffffffffffff", "notify": "none""#))
        XCTAssertTrue(text.contains(#"{"id": 2147483647, "clock_id": -6, "clock": "process-cputime", "signal": 34, "sigev_value": "0x8000000000000001", "notify": "thread""#))
        XCTAssertTrue(text.contains(#""clock_id": -2, "clock": "thread-cputime""#))
        XCTAssertTrue(text.contains(#""notify": "thread_id", "notify_target": \#(helper)}"#))
    }

    /// A NULL sigevent: the kernel picks SIGEV_SIGNAL, SIGALRM and sival = ID
    /// (docs/kernel-facts.md section 2); plain creates take IDs from the counter.
    func testNullSigeventAndCounterIDs() throws {
        let fixture = try startFixture(["sigevent=null", "sigevent=null", "id=50,sigevent=null", "sigevent=null"])
        XCTAssertEqual(fixture.timerIDs, [0, 1, 50, 51])
        let (checkpoint, result) = try dump(fixture.pid)
        XCTAssertEqual(checkpoint.timers.map(\.id), [0, 1, 50, 51])
        XCTAssertEqual(checkpoint.timers.map(\.sigevValue), [0, 1, 50, 51])
        XCTAssertEqual(Set(checkpoint.timers.map(\.signal)), [14])
        XCTAssertEqual(checkpoint.threads, [fixture.pid])
        XCTAssertEqual(checkpoint.warnings, [])
        XCTAssertEqual(result.stderrLines, [itimersNotReadNote])
    }

    /// Interval timers only the process can read (getitimer): a plain dump
    /// says once that it did not, exits 0 and has no `itimers`; --values has them.
    func testDumpWithoutValuesSaysTheITimersWereNotRead() throws {
        let fixture = try startFixture(["--itimer", "which=real,arm=80s"])
        let (plain, result) = try dump(fixture.pid)
        XCTAssertNil(plain.itimers)
        XCTAssertEqual(result.stderrLines, [itimersNotReadNote])
        let values = try runTimerCRIU(["dump", "\(fixture.pid)", "--values"])
        if values.status == 4 { throw XCTSkip("ptrace not allowed here: \(values.stderr)") }
        XCTAssertEqual(values.status, 0, values.stderr)
        XCTAssertEqual(values.stderr, "")
        let real = try XCTUnwrap(try Checkpoint(json: Array(values.stdout)).itimers?.real)
        XCTAssertGreaterThan(real.valueNanoseconds, 70_000_000_000)
    }

    func testNoTimers() throws {
        let fixture = try startFixture([])
        let (checkpoint, _) = try dump(fixture.pid)
        XCTAssertEqual(checkpoint.timers, [])
        XCTAssertEqual(checkpoint.warnings, [])
    }

    /// The fixture's exact thread list (and the warnings that count threads)
    /// cannot hold under ThreadSanitizer: the instrumented fixture has one
    /// more thread, TSan's background thread.
    func skipUnderThreadSanitizer() throws {
        if ActiveSanitizer.thread {
            throw XCTSkip("under ThreadSanitizer timer-fixture has an extra thread (TSan's own), so its thread list and thread counts differ")
        }
    }

    /// The three warnings of docs/format.md on a real process.
    func testWarningsOnARealProcess() throws {
        try skipUnderThreadSanitizer()
        let fixture = try startFixture([
            "id=1,notify=thread_id,target=exited,signal=40",
            "id=2,notify=thread_id,target=thread1,signal=32,value=0x7f00deadbeef",
            "id=3,clock=thread-cputime",
        ])
        XCTAssertEqual(fixture.exitedThreads.count, 1)
        let gone = fixture.exitedThreads[0]
        let helper = fixture.threads[0]
        let (checkpoint, result) = try dump(fixture.pid)
        let pid = fixture.pid
        XCTAssertEqual(checkpoint.timers.map(\.notifyTarget), [gone, helper, pid])
        XCTAssertEqual(checkpoint.timers.map(\.notifyTargetExited), [true, false, false])
        let expected = [
            "timer 1: notify target thread \(gone) is no longer a thread of process \(pid) (not under /proc/\(pid)/task); restoring it as is fails with EINVAL, so restore makes it SIGEV_NONE (--dead-thread-notify fail refuses it)",
            "timer 2: looks like a glibc SIGEV_THREAD timer (signal 32 to helper thread \(helper)); the helper thread and its callback belong to glibc and are not restored",
            "timer 3: thread-cputime clock in a process with 2 threads; /proc does not say which thread's CPU time it counts",
        ]
        XCTAssertEqual(checkpoint.warnings, expected)
        XCTAssertEqual(result.stderrLines, expected.map { "timer-criu: warning: " + $0 } + [itimersNotReadNote])
        XCTAssertTrue(result.stdoutText.contains(#""notify_target": \#(gone), "notify_target_exited": true}"#))
    }

    /// Whatever restore refuses or changes, the dump warns about first: a CPU
    /// clock of another process (-14: pid 1's) is refused by every restore
    /// that does not hold pid 1, so `"warnings": []` would be a lie.
    func testDumpWarnsAboutWhatRestoreRefuses() throws {
        let fixture = try startFixture(["id=4,clock=cpu:pid=1:sched"])
        let (checkpoint, result) = try dump(fixture.pid)
        XCTAssertEqual(checkpoint.timers.map(\.clockID.rawValue), [-14])
        let warning = "timer 4: clock cpu:pid=1:sched (-14) counts task 1, which is not process \(fixture.pid) or one of its "
            + "threads: restore refuses it unless task 1 is restored in the same tree"
        XCTAssertEqual(checkpoint.warnings, [warning])
        XCTAssertEqual(result.stderrLines, ["timer-criu: warning: " + warning, itimersNotReadNote])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tc-cpu1-\(UUID().uuidString).json")
        try result.stdout.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let restored = try runTimerCRIU(["restore", file.path])
        XCTAssertNotEqual(restored.status, 0)
        XCTAssertTrue(restored.stdoutText.contains("timer 4: clock cpu:pid=1:sched (-14) counts task 1"), restored.stdoutText)
    }

    /// coreutils `timeout 60 sleep 100` holds one timer (docs/kernel-facts.md section 1).
    func testCoreutilsTimeout() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/timeout") else {
            throw XCTSkip("no /usr/bin/timeout")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["60", "sleep", "100"]
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        var child: Int32?
        defer {
            // timeout passes SIGTERM on to its sleep; kill the sleep too if it stays.
            kill(pid, SIGTERM)
            process.waitUntilExit()
            if let child, kill(child, 0) == 0 { kill(child, SIGKILL) }
        }
        // timeout arms its timer before it forks the command: wait for the child.
        var checkpoint: Checkpoint?
        for _ in 0..<100 {
            if let children = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8),
               let first = children.split(separator: " ").first.flatMap({ Int32($0) }) {
                child = first
                checkpoint = try dump(pid).0
                break
            }
            usleep(20_000)
        }
        let dumped = try XCTUnwrap(checkpoint, "timeout never started its command")
        XCTAssertEqual(dumped.pid, pid)
        XCTAssertEqual(dumped.timers, [
            CheckpointTimer(id: 0, clockID: .realtime, signal: 14, sigevValue: 0, notify: .signal, notifyTarget: pid),
        ])
        XCTAssertEqual(dumped.warnings, [])
    }

    /// Real output checked against docs/timer-criu-2.schema.json.
    func testRealOutputMatchesTheJSONSchema() throws {
        let fixture = try startFixture([
            "id=0,clock=realtime",
            "id=7,notify=thread_id,signal=40,value=0xdeadbeefcafebabe",
            "id=123456,clock=boottime,notify=none,signal=-1",
            "id=2147483647,clock=process-cputime,notify=thread,signal=34",
            "id=8,notify=thread_id,target=exited,signal=35",
            "id=9,clock=cpu:pid=\(testPID):virt",
        ])
        let result = try runTimerCRIU(["dump", "\(fixture.pid)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let schemaPath = BuiltProducts.repositoryRoot + "/docs/timer-criu-2.schema.json"
        let schema = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: schemaPath))))
        let instance = try JSONValue.parse(Array(result.stdout))
        let validator = JSONSchemaValidator(schema: schema)
        XCTAssertEqual(validator.validate(instance), [])
        // A timer is the same in both versions of the format.
        let schema1 = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath:
            BuiltProducts.repositoryRoot + "/docs/timer-criu-1.schema.json"))))
        XCTAssertEqual(schema["$defs"]?["timer"], schema1["$defs"]?["timer"])

        // The validator does reject what the schema forbids.
        var bad = result.stdoutText.replacingOccurrences(of: "\"notify\": \"none\"", with: "\"notify\": \"nobody\"")
        bad = bad.replacingOccurrences(of: "\"sigev_value\": \"0xdeadbeefcafebabe\"", with: "\"sigev_value\": \"0xZZ\"")
        let problems = validator.validate(try JSONValue.parse(Array(bad.utf8)))
        XCTAssertEqual(problems.count, 2, "\(problems)")
        // The reader refuses clock_id 2 and 3 (never listed by the kernel): so does the schema.
        for requested in ["2", "3"] {
            let asRequested = result.stdoutText.replacingOccurrences(of: "\"clock_id\": -6, \"clock\": \"process-cputime\"",
                                                                      with: "\"clock_id\": \(requested), \"clock\": \"clock:\(requested)\"")
            XCTAssertNotEqual(asRequested, result.stdoutText)
            XCTAssertEqual(validator.validate(try JSONValue.parse(Array(asRequested.utf8))).count, 1, requested)
        }

        // A second, independent validator where the machine has one.
        let python = try runCommand("/usr/bin/env", ["python3", "-c", "import jsonschema"])
        guard python.status == 0 else { return }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("tc-schema-\(getpid()).json")
        try result.stdout.write(to: out)
        defer { try? FileManager.default.removeItem(at: out) }
        let check = try runCommand("/usr/bin/env", [
            "python3", "-c",
            "import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1]))); print('valid')",
            schemaPath, out.path,
        ])
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertEqual(check.stdoutText, "valid\n")
    }

    /// `-o FILE`: the same bytes as stdout, nothing on stdout, no temporary
    /// file left; on an error no FILE at all.
    func testOutputFileIsWrittenAtomically() throws {
        let fixture = try startFixture(["id=3,clock=boottime"])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tc-dump-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("cp.json").path

        let toStdout = try runTimerCRIU(["dump", "\(fixture.pid)"])
        let toFile = try runTimerCRIU(["dump", "\(fixture.pid)", "-o", file])
        XCTAssertEqual(toFile.status, 0, toFile.stderr)
        XCTAssertEqual(toFile.stdout.count, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: file)), toStdout.stdout)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["cp.json"])

        // Overwrites an existing file whole.
        try Data("old".utf8).write(to: URL(fileURLWithPath: file))
        XCTAssertEqual(try runTimerCRIU(["dump", "\(fixture.pid)", "--output", file]).status, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: file)), toStdout.stdout)

        // A failed dump leaves no file and no temporary file.
        let missing = dir.appendingPathComponent("none.json").path
        let failed = try runTimerCRIU(["dump", "\(try DumpErrorTests.unusedPID())", "-o", missing])
        XCTAssertEqual(failed.status, 3)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["cp.json"])

        // A directory that does not exist: exit 73, one line, nothing written.
        let nowhere = dir.appendingPathComponent("no/such/dir/cp.json").path
        let unwritable = try runTimerCRIU(["dump", "\(fixture.pid)", "-o", nowhere])
        XCTAssertEqual(unwritable.status, 73)
        XCTAssertEqual(unwritable.stdout.count, 0)
        XCTAssertEqual(unwritable.stderrLines, ["timer-criu: cannot write \(nowhere): open: ENOENT: No such file or directory"])
    }
}
