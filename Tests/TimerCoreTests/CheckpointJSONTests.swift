import XCTest
@testable import TimerCore
@testable import TimerFormats
@testable import TimerComparison

/// The timer-criu/1 text: exact output, round trip, refusals that name the
/// field, and the warnings a dump adds.
final class CheckpointJSONTests: XCTestCase {
    let sample = Checkpoint(
        pid: 100, kernel: "6.18.44", threads: [100, 101],
        timers: [
            CheckpointTimer(id: 0, clockID: .realtime, signal: 14, sigevValue: 0, notify: .signal, notifyTarget: 100),
            CheckpointTimer(id: 7, clockID: ClockID(-14), signal: 40, sigevValue: 0xdead_beef_cafe_babe,
                            notify: .threadID, notifyTarget: 101),
        ],
        warnings: ["a \"quoted\" warning\n"])

    func testExactText() {
        XCTAssertEqual(sample.jsonText, """
            {
              "format": "timer-criu/2",
              "pid": 100,
              "kernel": "6.18.44",
              "threads": [100, 101],
              "timers": [
                {"id": 0, "clock_id": 0, "clock": "realtime", "signal": 14, "sigev_value": "0x0000000000000000", "notify": "signal", "notify_target": 100},
                {"id": 7, "clock_id": -14, "clock": "cpu:pid=1:sched", "signal": 40, "sigev_value": "0xdeadbeefcafebabe", "notify": "thread_id", "notify_target": 101}
              ],
              "warnings": [
                "a \\"quoted\\" warning\\n"
              ]
            }

            """)
    }

    func testEmptyCheckpointText() {
        let empty = Checkpoint(pid: 5, kernel: "k", threads: [5], timers: [])
        XCTAssertEqual(empty.jsonText, """
            {
              "format": "timer-criu/2",
              "pid": 5,
              "kernel": "k",
              "threads": [5],
              "timers": [],
              "warnings": []
            }

            """)
        XCTAssertEqual(try Checkpoint(json: empty.jsonBytes()), empty)
    }

    func testTimerFDsAndITimersExactTextAndRoundTrip() throws {
        var checkpoint = Checkpoint(pid: 5, kernel: "k", threads: [5], timers: [])
        checkpoint.timerFDs = [
            CheckpointTimerFD(fd: 9, clockID: .boottime, flags: 0, settimeFlags: 1, ticks: 0,
                              valueNanoseconds: 499_617_563_184, intervalNanoseconds: 0),
            CheckpointTimerFD(fd: 7, clockID: .monotonic, flags: 0x80800, settimeFlags: 0, ticks: 3,
                              valueNanoseconds: 5, intervalNanoseconds: 1_000_000),
        ]
        checkpoint.itimers = CheckpointITimers(real: TimerValue(valueNanoseconds: 89_616_816_000, intervalNanoseconds: 30_000_000_000),
                                               virtual: TimerValue(valueNanoseconds: 20_004_000_000, intervalNanoseconds: 2_000_000_000))
        checkpoint.dumpClocks = DumpClocks(realtimeNanoseconds: 10, monotonicNanoseconds: 20, boottimeNanoseconds: 30)
        XCTAssertEqual(checkpoint.jsonText, """
            {
              "format": "timer-criu/2",
              "pid": 5,
              "kernel": "k",
              "threads": [5],
              "timers": [],
              "timerfds": [
                {"fd": 9, "clock_id": 7, "clock": "boottime", "flags": "0x0", "settime_flags": 1, "ticks": 0, "value_ns": 499617563184, "interval_ns": 0},
                {"fd": 7, "clock_id": 1, "clock": "monotonic", "flags": "0x80800", "settime_flags": 0, "ticks": 3, "value_ns": 5, "interval_ns": 1000000}
              ],
              "itimers": {"real": {"value_ns": 89616816000, "interval_ns": 30000000000}, "virtual": {"value_ns": 20004000000, "interval_ns": 2000000000}, "prof": {"value_ns": 0, "interval_ns": 0}},
              "clocks_at_dump": {"realtime_ns": 10, "monotonic_ns": 20, "boottime_ns": 30},
              "warnings": []
            }

            """)
        let back = try Checkpoint(json: checkpoint.jsonBytes())
        checkpoint.timerFDs?.sort { $0.fd < $1.fd }    // the reader sorts by fd
        XCTAssertEqual(back, checkpoint)
    }

    func testAVersion1FileLoadsAndStaysVersion1() throws {
        let text = #"{"format": "timer-criu/1", "pid": 1, "kernel": "x", "timers": [], "warnings": []}"#
        let checkpoint = try Checkpoint(json: Array(text.utf8))
        XCTAssertNil(checkpoint.timerFDs)
        XCTAssertNil(checkpoint.itimers)
        XCTAssertTrue(checkpoint.jsonText.contains(#""format": "timer-criu/1""#))
    }

    func testRoundTripWithEveryOptionalField() throws {
        var checkpoint = sample
        checkpoint.timers[0].valueNanoseconds = 1_500_000_000
        checkpoint.timers[0].intervalNanoseconds = 0
        checkpoint.timers[0].overrun = 3
        checkpoint.timers[1].sigevValueReliable = false
        checkpoint.timers[1].notifyTargetExited = true
        let back = try Checkpoint(json: checkpoint.jsonBytes())
        XCTAssertEqual(back, checkpoint)
        XCTAssertTrue(checkpoint.jsonText.contains(#""value_ns": 1500000000, "interval_ns": 0, "overrun": 3"#))
    }

    func testReadingSortsAndDefaultsThreads() throws {
        let text = """
            {"format": "timer-criu/1", "pid": 9, "kernel": "x", "warnings": [],
             "timers": [
               {"id": 5, "clock_id": 1, "clock": "monotonic", "signal": 14, "sigev_value": "0x1", "notify": "none", "notify_target": 9},
               {"id": 2, "clock_id": -6, "clock": "process-cputime", "signal": 14, "sigev_value": "0xFF",
                "notify": "signal", "notify_target": 9}]}
            """
        let checkpoint = try Checkpoint(json: Array(text.utf8))
        XCTAssertEqual(checkpoint.timers.map(\.id), [2, 5])
        XCTAssertEqual(checkpoint.threads, [9])
        XCTAssertEqual(checkpoint.timers[0].sigevValue, 0xff)
    }

    func assertRefused(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try Checkpoint(json: Array(text.utf8), path: "cp.json")
            XCTFail("accepted", file: file, line: line)
        } catch {
            XCTAssertEqual(error.description, expected, file: file, line: line)
        }
    }

    func timerText(_ fields: String) -> String {
        #"{"format": "timer-criu/1", "pid": 9, "kernel": "x", "warnings": [], "timers": [\#(fields)]}"#
    }

    let goodTimer = #"{"id": 1, "clock_id": 1, "clock": "monotonic", "signal": 14, "sigev_value": "0x0", "notify": "signal", "notify_target": 9}"#

    func testRefusalsNameTheField() {
        assertRefused("", "cp.json: not JSON: line 1, column 1: unexpected end of the text")
        assertRefused("{\"format\": \"timer-criu/1\",}", "cp.json: not JSON: line 1, column 27: expected a string key")
        assertRefused("[]", "cp.json: expected an object, found an array")
        assertRefused(#"{"format": "timer-criu/3", "pid": 1, "kernel": "x", "timers": []}"#,
                      "cp.json: format: \"timer-criu/3\" is not timer-criu/1 or timer-criu/2")
        assertRefused(#"{"format": "timer-criu/1", "pid": 1, "kernel": "x", "timers": [], "itimers": {}}"#,
                      "cp.json: unknown field \"itimers\"")
        assertRefused(#"{"format": "timer-criu/2", "pid": 1, "kernel": "x", "timers": [], "timerfds": [{"fd": 3, "clock_id": 1, "clock": "boottime", "flags": "0x0", "settime_flags": 0, "ticks": 0, "value_ns": 0, "interval_ns": 0}]}"#,
                      "cp.json: timerfds[0].clock: \"boottime\" does not match clock_id 1 (monotonic)")
        assertRefused(#"{"format": "timer-criu/2", "pid": 1, "kernel": "x", "timers": [], "timerfds": [{"fd": 3, "clock_id": 1, "flags": "0x0", "settime_flags": 0, "ticks": 0, "value_ns": 0}]}"#,
                      "cp.json: timerfds[0]: missing field \"interval_ns\"")
        assertRefused(#"{"format": "timer-criu/2", "pid": 1, "kernel": "x", "timers": [], "timerfds": [{"fd": -1, "clock_id": 1, "flags": "0x0", "settime_flags": 0, "ticks": 0, "value_ns": 0, "interval_ns": 0}]}"#,
                      "cp.json: timerfds[0].fd: -1 is outside 0...2147483647")
        assertRefused(#"{"format": "timer-criu/2", "pid": 1, "kernel": "x", "timers": [], "clocks_at_dump": {"realtime_ns": 1, "monotonic_ns": 1}}"#,
                      "cp.json: clocks_at_dump: missing field \"boottime_ns\"")
        assertRefused(#"{"format": "timer-criu/1", "pid": 0, "kernel": "x", "timers": []}"#,
                      "cp.json: pid: 0 is outside 1...2147483647")
        assertRefused(#"{"format": "timer-criu/1", "pid": 1, "kernel": "x"}"#, "cp.json: missing field \"timers\"")
        assertRefused(#"{"format": "timer-criu/1", "pid": 1, "kernel": "x", "timers": [], "extra": 1}"#,
                      "cp.json: unknown field \"extra\"")
        assertRefused(timerText(#"{"id": 2147483648, "clock_id": 1, "clock": "monotonic", "signal": 14, "sigev_value": "0x0", "notify": "signal", "notify_target": 9}"#),
                      "cp.json: timers[0].id: 2147483648 is outside 0...2147483647")
        assertRefused(timerText(#"{"id": 1.5, "clock_id": 1, "clock": "monotonic", "signal": 14, "sigev_value": "0x0", "notify": "signal", "notify_target": 9}"#),
                      "cp.json: timers[0].id: 1.5 is not an integer in 0...2147483647")
        assertRefused(timerText(#"{"id": "1", "clock_id": 1, "clock": "monotonic", "signal": 14, "sigev_value": "0x0", "notify": "signal", "notify_target": 9}"#),
                      "cp.json: timers[0].id: expected an integer, found a string")
        assertRefused(timerText(goodTimer + "," + goodTimer),
                      "cp.json: timers[1].id: 1 appears twice (also timers[0])")
        assertRefused(timerText(#"{"id": 1, "clock_id": 1, "clock": "realtime", "signal": 14, "sigev_value": "0x0", "notify": "signal", "notify_target": 9}"#),
                      "cp.json: timers[0].clock: \"realtime\" does not match clock_id 1 (monotonic)")
        assertRefused(timerText(#"{"id": 1, "clock_id": 1, "clock": "monotonic", "signal": 14, "sigev_value": "12", "notify": "signal", "notify_target": 9}"#),
                      "cp.json: timers[0].sigev_value: \"12\" is not \"0x\" and 1 to 16 hex digits")
        assertRefused(timerText(#"{"id": 1, "clock_id": 1, "clock": "monotonic", "signal": 14, "sigev_value": "0x10000000000000000", "notify": "signal", "notify_target": 9}"#),
                      "cp.json: timers[0].sigev_value: \"0x10000000000000000\" is not \"0x\" and 1 to 16 hex digits")
        assertRefused(timerText(#"{"id": 1, "clock_id": 1, "clock": "monotonic", "signal": 14, "sigev_value": "0x0", "notify": "thread-id", "notify_target": 9}"#),
                      "cp.json: timers[0].notify: \"thread-id\" is not signal, none, thread or thread_id")
        assertRefused(timerText(#"{"id": 1, "clock_id": 1, "clock": "monotonic", "signal": 14, "sigev_value": "0x0", "notify": "signal"}"#),
                      "cp.json: timers[0]: missing field \"notify_target\"")
        assertRefused(timerText(#"{"id": 1, "clock_id": 1, "clock": "monotonic", "signal": 14, "sigev_value": "0x0", "notify": "signal", "notify_target": 9, "value_ns": -1}"#),
                      "cp.json: timers[0].value_ns: -1 is outside 0...9223372036854775807")
        assertRefused(#"{"format": "timer-criu/1", "pid": 1, "pid": 2}"#,
                      "cp.json: not JSON: line 1, column 38: duplicate key \"pid\"")
        assertRefused(String(repeating: "[", count: 100), "cp.json: not JSON: line 1, column 65: nested more than 64 levels")
    }

    // MARK: the checkpoint of /proc records, with warnings

    func proc(_ id: Int32, clock: ClockID = .monotonic, signal: Int32 = 14, notify: NotifyMode = .signal,
              target: Int32 = 100) -> ProcTimer {
        ProcTimer(id: id, signal: signal, sigevValue: 0, notify: notify, notifyTarget: target, clockID: clock)
    }

    func testFromProcSortsByIDAndWarnsNothingForPlainTimers() throws {
        let checkpoint = try Checkpoint(pid: 100, kernel: "6.18.44", threads: [100],
                                        procTimers: [proc(7), proc(2147483647), proc(0)])
        XCTAssertEqual(checkpoint.timers.map(\.id), [0, 7, 2147483647])
        XCTAssertEqual(checkpoint.warnings, [])
        XCTAssertEqual(checkpoint.format, "timer-criu/2")
    }

    func testWarnings() throws {
        let checkpoint = try Checkpoint(
            pid: 100, kernel: "6.18.44", threads: [100, 101],
            procTimers: [
                proc(1, notify: .threadID, target: 555),  // gone thread
                proc(2, signal: 32, notify: .threadID, target: 101),  // glibc SIGEV_THREAD helper
                proc(3, clock: .threadCPUTime),  // which thread?
                proc(4, notify: .threadID, target: 101),  // fine
            ])
        XCTAssertEqual(checkpoint.warnings, [
            "timer 1: notify target thread 555 is no longer a thread of process 100 (not under /proc/100/task); restoring it as is fails with EINVAL, so restore makes it SIGEV_NONE (--dead-thread-notify fail refuses it)",
            "timer 2: looks like a glibc SIGEV_THREAD timer (signal 32 to helper thread 101); the helper thread and its callback belong to glibc and are not restored",
            "timer 3: thread-cputime clock in a process with 2 threads; /proc does not say which thread's CPU time it counts",
        ])
        XCTAssertEqual(checkpoint.timers.map(\.notifyTargetExited), [true, false, false, false])
        // One thread: thread-cputime is that thread's.
        XCTAssertEqual(try Checkpoint(pid: 100, kernel: "6.18.44", threads: [100],
                                      procTimers: [proc(3, clock: .threadCPUTime)]).warnings, [])
    }

    func testHashedSivalKernels() throws {
        XCTAssertTrue(Checkpoint.printsHashedSival(kernel: "4.15.0-generic"))
        XCTAssertTrue(Checkpoint.printsHashedSival(kernel: "4.19.325"))
        XCTAssertFalse(Checkpoint.printsHashedSival(kernel: "4.14.1"))
        XCTAssertFalse(Checkpoint.printsHashedSival(kernel: "5.4.0"))
        XCTAssertFalse(Checkpoint.printsHashedSival(kernel: "6.18.44-fc-v657"))
        let checkpoint = try Checkpoint(pid: 100, kernel: "4.19.0", threads: [100], procTimers: [proc(1)])
        XCTAssertFalse(checkpoint.timers[0].sigevValueReliable)
        XCTAssertEqual(checkpoint.warnings.count, 1)
    }

    func testDuplicateIDsMeanTheListChanged() {
        XCTAssertThrowsError(try Checkpoint(pid: 100, kernel: "6.18", threads: [100], procTimers: [proc(3), proc(3)])) {
            XCTAssertEqual("\($0)", "timer ID 3 is listed twice (the timers changed while being read)")
        }
    }
}
