import Foundation
import HostKernel
import TestSupport
import TimerCore
import TimerFormats
import TimerComparison
import XCTest

/// `timer-criu restore --kernel host` on the real kernel: a fixture's dump
/// restored by the dance and by create-at-id, checked by the restore's own
/// verification AND independently through the held helper's /proc; values
/// re-armed; the cursor refused; racing threads caught. Every helper is
/// killed by its pid.
final class HostRestoreTests: XCTestCase {
    var fixtures: [FixtureProcess] = []
    var helpers: [Int32] = []
    var files: [String] = []

    override func setUpWithError() throws {
        let features = HostFeatures.probe()
        for name in ["proc-timers", "sigpending"] where features[name]?.ok != true {
            throw XCTSkip("host restore needs \(name): \(features[name]?.detail ?? "not probed")")
        }
    }

    override func tearDown() {
        for fixture in fixtures { fixture.stop() }
        for pid in helpers { Self.killAndAwait(pid) }
        for file in files { try? FileManager.default.removeItem(atPath: file) }
        fixtures = []; helpers = []; files = []
        super.tearDown()
    }

    // MARK: helpers

    func requireCreateAtID() throws {
        let feature = HostFeatures.createAtID()
        if !feature.ok { throw XCTSkip("create-at-id: \(feature.detail)") }
    }

    func startFixture(_ arguments: [String]) throws -> FixtureProcess {
        let fixture = try FixtureProcess(arguments)
        fixtures.append(fixture)
        return fixture
    }

    func dump(_ pid: Int32, values: Bool = false) throws -> Checkpoint {
        let result = try runTimerCRIU(["dump", "\(pid)"] + (values ? ["--values"] : []))
        XCTAssertEqual(result.status, 0, result.stderr)
        return try Checkpoint(json: Array(result.stdout), path: "dump of \(pid)")
    }

    func write(_ checkpoint: Checkpoint) throws -> String {
        let path = try TestCheckpoints.writeTemporary(checkpoint, prefix: "tc-ck")
        files.append(path)
        return path
    }

    /// Runs `restore PATH --kernel host --json ARGS`; remembers a held helper for tearDown.
    func restore(_ path: String, _ arguments: [String], environment: [String: String]? = nil) throws
        -> (CommandResult, JSONValue)
    {
        var env: [String: String]? = nil
        if let environment { env = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let result = try runCommand(try BuiltProducts.path("timer-criu"),
                                    ["restore", path, "--kernel", "host", "--json"] + arguments, environment: env)
        let json = try JSONValue.parse(Array(result.stdout))
        if json["held"] == .bool(true), let pid = json["helper_pid"]?.integer { helpers.append(Int32(pid)) }
        return (result, json)
    }

    static func isGone(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(close, offsetBy: 2)] == "Z"  // a zombie holds no timers
    }

    static func killAndAwait(_ pid: Int32) {
        guard pid > 1 else { return }
        kill(pid, SIGKILL)
        for _ in 0..<100 where !isGone(pid) { usleep(20_000) }
    }

    func timers(_ json: JSONValue) throws -> [CheckpointTimer] {
        var text = "{\"format\": \"timer-criu/1\", \"pid\": \(json["pid"]?.integer ?? 0), \"kernel\": \"x\", \"warnings\": [], \"threads\": ["
        if case let .array(threads)? = json["threads"] {
            text += threads.compactMap { $0.integer.map(String.init) }.joined(separator: ", ")
        }
        text += "], \"timers\": " + Self.render(json["timers"] ?? .array([])) + "}"
        return try Checkpoint(json: Array(text.utf8)).timers
    }

    static func render(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case let .bool(b): return String(b)
        case let .number(n): return n
        case let .string(s):
            var out: [UInt8] = []
            JSONWriter.appendString(s, to: &out)
            return String(decoding: out, as: UTF8.self)
        case let .array(items): return "[" + items.map(render).joined(separator: ", ") + "]"
        case let .object(members):
            return "{" + members.map { render(.string($0.0)) + ": " + render($0.1) }.joined(separator: ", ") + "}"
        }
    }

    /// What /proc must show in the helper: the checkpoint's timers with the
    /// pid and the notify threads mapped (computed here, not by RestorePlan).
    static func expectedProc(_ checkpoint: Checkpoint, helper: Int32, threads: [Int32]) -> [ProcTimer] {
        var tidMap: [Int32: Int32] = [checkpoint.pid: helper]
        let targets = checkpoint.threads.filter { tid in
            tid != checkpoint.pid && checkpoint.timers.contains { $0.notify == .threadID && $0.notifyTarget == tid }
        }
        for (i, tid) in targets.enumerated() where i + 1 < threads.count { tidMap[tid] = threads[i + 1] }
        return checkpoint.timers.map {
            ProcTimer(id: $0.id, signal: $0.signal, sigevValue: $0.sigevValue, notify: $0.notify,
                      notifyTarget: tidMap[$0.notifyTarget] ?? -1, clockID: $0.clockID)
        }.sorted { $0.id < $1.id }
    }

    // MARK: both strategies, verified twice

    func restoreFixtureDump(strategy: String) throws {
        let fixture = try startFixture([
            "id=0,clock=realtime",
            "id=7,clock=monotonic,notify=thread_id,target=thread1,signal=40,value=0xdeadbeefcafebabe,arm=30s,interval=1s",
            "id=12,clock=boottime,notify=thread,signal=34,value=0x8000000000000001",
            "id=1000,clock=boottime,notify=none,signal=-1,value=0xffffffffffffffff",
            "id=3000,clock=process-cputime,notify=signal,signal=12,value=0x1",
        ])
        let checkpoint = try dump(fixture.pid)
        XCTAssertEqual(checkpoint.timers.map(\.id), [0, 7, 12, 1000, 3000])
        let (result, json) = try restore(try write(checkpoint), ["--strategy", strategy, "--hold"])
        XCTAssertEqual(result.status, 0, result.stderr + result.stdoutText)
        XCTAssertEqual(json["ok"], .bool(true), result.stdoutText)
        XCTAssertEqual(json["strategy"], .string(strategy))
        XCTAssertEqual(json["differences"], .array([]))
        let helper = Int32(try XCTUnwrap(json["helper_pid"]?.integer))
        XCTAssertEqual(json["pid"]?.integer, Int64(helper))
        XCTAssertEqual(json["held"], .bool(true))
        guard case let .array(threadValues)? = json["threads"] else { return XCTFail("no threads") }
        let threads = threadValues.compactMap { $0.integer.map(Int32.init) }
        XCTAssertEqual(threads.count, 2, "the main thread and one notify thread")

        // Independently: the held helper's own /proc, read and parsed here.
        let shown = try ProcTimersParser.parse(try ProcFS.readTimers(pid: helper)).sorted { $0.id < $1.id }
        XCTAssertEqual(shown, Self.expectedProc(checkpoint, helper: helper, threads: threads))
        // The helper's thread really is a thread of it.
        XCTAssertTrue(FileManager.default.fileExists(atPath: "/proc/\(helper)/task/\(threads[1])"))
        // A held helper keeps nothing of the tool's or ours open: 0, 1, 2 on /dev/null.
        let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(helper)/fd").compactMap(Int.init).sorted()
        XCTAssertEqual(fds, [0, 1, 2])
        for fd in fds {
            XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(helper)/fd/\(fd)"), "/dev/null")
        }

        let syscalls = json["syscalls"]
        if strategy == "dance" {
            // (max ID + 1) creates and (max ID + 1 - n) deletes (docs/kernel-facts.md section 3.1).
            XCTAssertEqual(syscalls?["timer_create"]?.integer, 3001)
            XCTAssertEqual(syscalls?["timer_delete"]?.integer, 3001 - 5)
        } else {
            XCTAssertEqual(syscalls?["timer_create"]?.integer, 5)
            XCTAssertEqual(syscalls?["timer_delete"]?.integer, 0)
            XCTAssertEqual(syscalls?["prctl"]?.integer, 2)
        }
        Self.killAndAwait(helper)
        XCTAssertTrue(Self.isGone(helper))
    }

    func testDanceVerifiedThroughProc() throws {
        try restoreFixtureDump(strategy: "dance")
    }

    func testCreateAtIDVerifiedThroughProc() throws {
        try requireCreateAtID()
        try restoreFixtureDump(strategy: "create-at-id")
    }

    /// Without --hold the helper is gone when the tool returns.
    func testWithoutHoldNoHelperRemains() throws {
        let checkpoint = Checkpoint(pid: 4242, kernel: "x", threads: [4242], timers: [
            CheckpointTimer(id: 3, clockID: .monotonic, signal: 14, sigevValue: 0, notify: .signal, notifyTarget: 4242),
        ])
        let (result, json) = try restore(try write(checkpoint), ["--strategy", "dance"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let helper = Int32(try XCTUnwrap(json["helper_pid"]?.integer))
        XCTAssertTrue(Self.isGone(helper), "helper \(helper) still running")
        XCTAssertNil(json["held"])
    }

    // MARK: values

    /// A --values dump of armed one-shot and periodic timers, then a host
    /// restore: armed within windows; a periodic timer saved with value 0 is
    /// armed with its interval; a disarmed one stays disarmed; overruns > 0
    /// are reported as not restored.
    func testValuesRestoredArmed() throws {
        let ptrace = HostFeatures.ptraceChild()
        if !ptrace.ok { throw XCTSkip("dump --values needs ptrace: \(ptrace.detail)") }
        let fixture = try startFixture([
            "id=1,clock=monotonic,arm=60s",                    // one-shot
            "id=2,clock=monotonic,arm=40s,interval=2s",        // periodic
            "id=3,clock=realtime",                             // disarmed
            "id=4,clock=monotonic,arm=30s,interval=5s",        // saved value set to 0 below
        ])
        var checkpoint = try dump(fixture.pid, values: true)
        let byID = Dictionary(uniqueKeysWithValues: checkpoint.timers.map { ($0.id, $0) })
        let oneShot = try XCTUnwrap(byID[1]?.valueNanoseconds)
        XCTAssertTrue((50_000_000_000...60_000_000_000).contains(oneShot), "\(oneShot)")
        XCTAssertEqual(byID[1]?.intervalNanoseconds, 0)
        XCTAssertEqual(byID[2]?.intervalNanoseconds, 2_000_000_000)
        XCTAssertEqual(byID[3]?.valueNanoseconds, 0)
        let index4 = try XCTUnwrap(checkpoint.timers.firstIndex { $0.id == 4 })
        checkpoint.timers[index4].valueNanoseconds = 0   // "periodic, value 0" as CRIU can save it
        checkpoint.timers[index4].overrun = 3            // an overrun the host cannot restore
        let saved2 = try XCTUnwrap(byID[2]?.valueNanoseconds)

        let (result, json) = try restore(try write(checkpoint), ["--hold"])
        XCTAssertEqual(result.status, 0, result.stderr + result.stdoutText)
        let restored = Dictionary(uniqueKeysWithValues: try timers(json).map { ($0.id, $0) })
        // The helper read these back itself with timer_gettime, right after arming.
        let v1 = try XCTUnwrap(restored[1]?.valueNanoseconds)
        XCTAssertTrue(v1 <= oneShot && v1 > oneShot - 5_000_000_000, "one-shot \(v1) vs saved \(oneShot)")
        XCTAssertEqual(restored[1]?.intervalNanoseconds, 0)
        let v2 = try XCTUnwrap(restored[2]?.valueNanoseconds)
        XCTAssertTrue(v2 <= saved2 && v2 > saved2 - 5_000_000_000, "periodic \(v2) vs saved \(saved2)")
        XCTAssertEqual(restored[2]?.intervalNanoseconds, 2_000_000_000)
        XCTAssertEqual(restored[3]?.valueNanoseconds, 0, "disarmed stays disarmed")
        XCTAssertEqual(restored[3]?.intervalNanoseconds, 0)
        let v4 = try XCTUnwrap(restored[4]?.valueNanoseconds)
        XCTAssertTrue(v4 > 4_000_000_000 && v4 <= 5_000_000_000, "value 0 armed with its interval: \(v4)")
        XCTAssertEqual(restored[4]?.intervalNanoseconds, 5_000_000_000)
        guard case let .array(notes)? = json["notes"] else { return XCTFail("no notes") }
        XCTAssertTrue(notes.contains { if case let .string(s) = $0 { return s.contains("overrun counts not restored")
            && s.contains("4") }; return false }, "\(notes)")

        // Independently: dump the held helper --values (ptrace), as any process.
        let helper = Int32(try XCTUnwrap(json["helper_pid"]?.integer))
        let again = Dictionary(uniqueKeysWithValues: try dump(helper, values: true).timers.map { ($0.id, $0) })
        XCTAssertEqual(again[3]?.valueNanoseconds, 0)
        XCTAssertTrue((1...v1).contains(again[1]?.valueNanoseconds ?? 0))
        XCTAssertTrue((1...5_000_000_000).contains(again[4]?.valueNanoseconds ?? 0))
        XCTAssertEqual(again[2]?.intervalNanoseconds, 2_000_000_000)
    }

    /// No overrun above 0: no "not restored" note.
    func testNoOverrunNoteWhenNothingWasLost() throws {
        let checkpoint = Checkpoint(pid: 4242, kernel: "x", threads: [4242], timers: [
            CheckpointTimer(id: 3, clockID: .monotonic, signal: 14, sigevValue: 0, notify: .none, notifyTarget: 4242,
                            valueNanoseconds: 10_000_000_000, intervalNanoseconds: 0, overrun: 0),
        ])
        let (result, json) = try restore(try write(checkpoint), [])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(json["notes"], .array([]))
    }

    // MARK: cursor

    func testCursorOnHostFails() throws {
        let checkpoint = Checkpoint(pid: 4242, kernel: "x", threads: [4242], timers: [
            CheckpointTimer(id: 3, clockID: .monotonic, signal: 14, sigevValue: 0, notify: .signal, notifyTarget: 4242),
        ])
        let (result, json) = try restore(try write(checkpoint), ["--strategy", "cursor"])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(json["ok"], .bool(false))
        XCTAssertEqual(json["error"]?["code"], .string("strategy-unsupported"))
        guard case let .string(message)? = json["error"]?["message"] else { return XCTFail("no message") }
        XCTAssertTrue(message.contains("no timer ID cursor sysctl"), message)
        XCTAssertEqual(json["timers"], .array([]), "nothing created")
        let human = try runTimerCRIU(["restore", try write(checkpoint), "--kernel", "host", "--strategy", "cursor"])
        XCTAssertEqual(human.status, 1)
        XCTAssertTrue(human.stdoutText.hasPrefix("restore FAILED on host"), human.stdoutText)
    }

    // MARK: racing threads

    /// Threads of the helper create plain timers while create-at-id runs: the
    /// restore must say which ID was stolen or which timer is extra.
    func testRacingThreadsAreDetected() throws {
        try requireCreateAtID()
        // IDs from 0: the racers' first plain creates take 0, 1, ... (a stolen
        // ID). IDs from 1000: those become extra timers, and later racing
        // creates in create-at-ID mode may take wanted IDs.
        for base in [Int32(0), 1000] { try raceOnce(base: base) }
    }

    func raceOnce(base: Int32) throws {
        var timers: [CheckpointTimer] = []
        for id in stride(from: base, to: base + 400, by: 2) {
            timers.append(CheckpointTimer(id: id, clockID: .monotonic, signal: 14, sigevValue: UInt64(id),
                                          notify: .none, notifyTarget: 4242))
        }
        let checkpoint = Checkpoint(pid: 4242, kernel: "x", threads: [4242], timers: timers)
        let wanted = Set(timers.map(\.id))
        let path = try write(checkpoint)
        for round in 0..<3 {
            let (result, json) = try restore(path, ["--strategy", "create-at-id"],
                                             environment: [RestoreHelper.DebugHooks.racingThreadsVariable: "4"])
            XCTAssertEqual(result.status, 1, "round \(round): \(result.stdoutText)")
            XCTAssertEqual(json["ok"], .bool(false))
            guard case let .string(code)? = json["error"]?["code"],
                  case let .string(message)? = json["error"]?["message"] else { return XCTFail("no error") }
            let present = try self.timers(json)
            let extra = present.filter { !wanted.contains($0.id) || $0.sigevValue != UInt64($0.id) }.map(\.id)
            switch code {
            case "id-stolen":
                // "timer_create(id=N): EBUSY: ... ID N was stolen ..." with N a wanted ID.
                let named = message.split(separator: "=").dropFirst().first.flatMap { Int32($0.prefix { $0.isNumber }) }
                XCTAssertNotNil(named.flatMap { wanted.contains($0) ? $0 : nil }, message)
                XCTAssertTrue(message.contains("EBUSY") && message.contains("stolen"), message)
            case "verification-failed":
                XCTAssertFalse(extra.isEmpty, message)
                XCTAssertTrue(extra.contains { message.contains("timer \($0):") }, "\(message) vs extra \(extra)")
            default:
                XCTFail("unexpected error \(code): \(message)")
            }
            print("IDs from \(base), round \(round): \(code): \(message)")
            if let helper = json["helper_pid"]?.integer { XCTAssertTrue(Self.isGone(Int32(helper))) }
        }
    }

    /// The same hook with no restore race to lose: a plain run still verifies.
    func testNoRacingThreadsVerifies() throws {
        try requireCreateAtID()
        let checkpoint = Checkpoint(pid: 4242, kernel: "x", threads: [4242], timers: (0..<200).map {
            CheckpointTimer(id: Int32($0 * 2), clockID: .monotonic, signal: 14, sigevValue: 0, notify: .none, notifyTarget: 4242)
        })
        let (result, json) = try restore(try write(checkpoint), ["--strategy", "create-at-id"],
                                         environment: [RestoreHelper.DebugHooks.racingThreadsVariable: "0"])
        XCTAssertEqual(result.status, 0, result.stdoutText)
        XCTAssertEqual(json["ok"], .bool(true))
    }
}
