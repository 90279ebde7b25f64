import XCTest
import Foundation
import ArgumentParser
import TestSupport
import TimerCore
import TimerFormats
import TimerComparison
@testable import TimerCRIUCommands

/// `timer-criu simulate`: the script language in process, the built binary as
/// a subprocess (model profiles, host, errors and exit codes).
final class SimulateCommandTests: XCTestCase {
    private func writeScript(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tc-sim-\(UUID().uuidString).txt")
        try Data(text.utf8).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    static let basic = """
        # docs/kernel-facts.md section 2: create 0,1,2; delete 1; next
        create clock=0
        create clock=0

        create clock=0
        delete id=1
        create clock=0
        prctl restore-ids=get
        cursor id=5
        """

    func testBasicScriptOnEveryProfile() throws {
        let path = try writeScript(Self.basic)
        let expected: [String: String] = [
            "linux-2.6": "0 1 2 0 1 EINVAL ENOENT",
            "linux-3.10": "0 1 2 0 3 EINVAL ENOENT",
            "linux-6.15": "0 1 2 0 3 0 ENOENT",
            "rfd-cursor": "0 1 2 0 3 EINVAL 0",
            "rfd-dense": "0 1 2 0 1 0 ENOENT",
        ]
        for (kernel, lines) in expected {
            let result = try runTimerCRIU(["simulate", "--kernel", kernel, path])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(result.stdoutText, lines.replacingOccurrences(of: " ", with: "\n") + "\n", kernel)
        }
    }

    func testDefaultKernelIsLinux615AndStdinWorks() throws {
        let path = try writeScript("prctl restore-ids=on\ncreate clock=1 id=77\ncreate clock=1\ncreate clock=1 id=-3\n")
        let fromFile = try runTimerCRIU(["simulate", path])
        // Without id= the buffer holds 0, which create-at-ID mode reads.
        XCTAssertEqual(fromFile.stdoutText, "0\n77\n0\nEINVAL\n")
        // `-` reads stdin.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try BuiltProducts.path("timer-criu"))
        process.arguments = ["simulate", "-"]
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(String(decoding: data, as: UTF8.self), fromFile.stdoutText)
    }

    func testCreateWithoutIDPassesZeroInCreateAtIDMode() throws {
        let path = try writeScript("prctl restore-ids=on\ncreate clock=1\ncreate clock=1\ncreate clock=1 id=1\n")
        let result = try runTimerCRIU(["simulate", path])
        XCTAssertEqual(result.stdoutText, "0\n0\nEBUSY\n1\n")
    }

    func testThreadsAndDropCap() throws {
        let path = try writeScript("""
            create clock=0 notify=thread_id tid=2 signal=40
            create clock=0 notify=thread_id target=1 signal=40
            cursor id=10
            create clock=0 notify=none
            """)
        let withCap = try runTimerCRIU(["simulate", "--kernel", "rfd-cursor", "--threads", "2", path])
        XCTAssertEqual(withCap.stdoutText, "0\nEINVAL\n0\n10\n")
        let dropped = try runTimerCRIU(["simulate", "--kernel", "rfd-cursor", "--threads", "2",
                                        "--drop-cap", "checkpoint-restore", path])
        XCTAssertEqual(dropped.stdoutText, "0\nEINVAL\nEPERM\n2\n")
    }

    func testGettimeAndSleepOnTheModel() throws {
        let path = try writeScript("""
            create clock=1 notify=signal signal=10
            settime id=0 value_ns=1000 interval_ns=300
            sleep ns=2000
            gettime id=0
            getoverrun id=0
            settime id=0 value_ns=-1
            """)
        let result = try runTimerCRIU(["simulate", path])
        // Expiries at 1000, 1300, ..., 1900: one delivered, 3 missed; next at 2200.
        // sleep prints its line too (0, as nanosleep returns).
        XCTAssertEqual(result.stdoutText, "0\n0\n0\n200 300\n3\nEINVAL\n")
    }

    /// With the loopback interface down (a fresh network namespace), the host
    /// run must not need a CFSocket (Foundation's Process did, and could hang).
    func testHostRunWithLoopbackDown() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else { throw XCTSkip("no /usr/bin/unshare") }
        let probe = try runCommand("/usr/bin/unshare", ["-n", "/bin/true"])
        guard probe.status == 0 else { throw XCTSkip("cannot make a network namespace here: \(probe.stderr)") }
        let path = try writeScript("create clock=1\nsleep ns=1000\ndelete id=0\n")
        let result = try runCommand("/usr/bin/timeout", ["30", "/usr/bin/unshare", "-n", try BuiltProducts.path("timer-criu"),
                                                         "simulate", "--kernel", "host", path])
        XCTAssertEqual(result.status, 0, "124 = hung until timeout; stderr: \(result.stderr)")
        XCTAssertEqual(result.stdoutText, "0\n0\n0\n")
        XCTAssertEqual(result.stderr, "")
    }

    /// The help says the --threads range and what differs from the host.
    func testHelpSaysTheThreadsRangeAndTheHostDifference() throws {
        let help = try runTimerCRIU(["simulate", "--help"]).stdoutText.replacingOccurrences(of: "\n", with: " ")
            .split(separator: " ").joined(separator: " ")
        XCTAssertTrue(help.contains("0...64"), help)
        XCTAssertTrue(help.contains("except the times of gettime and the counts of getoverrun"), help)
    }

    func testScriptErrorsNameTheLineAndRunNothing() throws {
        let cases: [(String, String)] = [
            ("create clock=0\ncreat clock=0\n", "line 2: unknown call 'creat'"),
            ("create clock=0\n\n# c\ncreate clok=1\n", "line 4: create: unknown key 'clok'"),
            ("create\n", "line 1: create: missing clock="),
            ("create clock=zero\n", "line 1: create: clock=zero is not a clock id"),
            ("create clock=0 signal=10\n", "line 1: create: signal= needs notify="),
            ("create clock=0 notify=thread_id\n", "line 1: create: notify=thread_id needs tid=K or target=T"),
            ("create clock=0 notify=thread_id tid=3\n", "line 1: create: tid=3 but the process has threads 0...0"),
            ("create clock=0 notify=bogus\n", "line 1: create: notify=bogus is not one of"),
            ("create clock=0 id=2147483648\n", "line 1: create: id=2147483648 is not an integer"),
            ("create clock=0 id=1 id=2\n", "line 1: create: id= given twice"),
            ("delete\n", "line 1: delete: missing id=I"),
            ("delete 5\n", "line 1: delete: expected key=value, found '5'"),
            ("settime id=0\n", "line 1: settime: missing value_ns=V"),
            ("prctl restore-ids=maybe\n", "line 1: prctl: restore-ids=maybe must be on, off or get"),
            ("create clock=0 notify=signal sival=0xZZ\n", "line 1: create: sival=0xZZ is not 0xHEX"),
        ]
        for (script, message) in cases {
            let path = try writeScript(script)
            for kernel in ["linux-6.15", "host"] {
                let result = try runTimerCRIU(["simulate", "--kernel", kernel, path])
                XCTAssertEqual(result.status, TimerCRIUExit.badInput, script)
                XCTAssertEqual(result.stdoutText, "", "nothing may run: \(script)")
                XCTAssertEqual(result.stderrLines.count, 1, result.stderr)
                XCTAssertTrue(result.stderr.hasPrefix("timer-criu: \(path): \(message)"), "\(result.stderr) vs \(message)")
            }
        }
    }

    /// CRLF lines are lines ("\r\n" is one Character, not
    /// "\n"); a comment on the first line no longer swallows the script.
    func testCRLFScriptsRunEveryLine() throws {
        let path = try writeScript("# two creates\r\ncreate clock=0\r\ncreate clock=0\r\n")
        let result = try runTimerCRIU(["simulate", "--kernel", "linux-6.15", path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdoutText, "0\n1\n")

        let bad = try writeScript("create clock=0\r\ncreat clock=0\r\n")
        let refused = try runTimerCRIU(["simulate", bad])
        XCTAssertEqual(refused.status, TimerCRIUExit.badInput)
        XCTAssertTrue(refused.stderr.hasPrefix("timer-criu: \(bad): line 2: unknown call 'creat'"), refused.stderr)
        XCTAssertFalse(refused.stderr.contains("\r"), "a raw CR reached the terminal: \(refused.stderr.debugDescription)")
    }

    /// A CPU clock naming a pid that does not fit
    /// the clock id encoding is refused (2147483647 wrapped onto clock 2, the
    /// caller's own CPU clock); echoed words are escaped and cut.
    func testHostileWordsAreRefusedEscapedAndCut() throws {
        let cases: [(String, String)] = [
            ("create clock=cpu:pid=2147483647:sched\n", "line 1: create: clock=cpu:pid=2147483647:sched is not a clock id"),
            ("create clock=cpu:pid=536870913:sched\n", "line 1: create: clock=cpu:pid=536870913:sched is not a clock id"),
            ("create clock=cpu:tid=268435456:prof\n", "line 1: create: clock=cpu:tid=268435456:prof is not a clock id"),
            ("create clock=0 notify=signal sival=0x+1\n", "line 1: create: sival=0x+1 is not 0xHEX"),
            ("create clock=0 notify=signal sival=+1\n", "line 1: create: sival=+1 is not 0xHEX"),
            ("cre\u{1b}[2Jate clock=0\n", "line 1: unknown call 'cre\\e[2Jate'"),
            ("create clock=" + String(repeating: "x", count: 100_000) + "\n",
             "line 1: create: clock=" + String(repeating: "x", count: 60) + "... (100000 bytes) is not a clock id"),
        ]
        for (script, message) in cases {
            let path = try writeScript(script)
            let result = try runTimerCRIU(["simulate", path])
            XCTAssertEqual(result.status, TimerCRIUExit.badInput, script)
            XCTAssertEqual(result.stderrLines.count, 1, result.stderr)
            XCTAssertTrue(result.stderr.hasPrefix("timer-criu: \(path): \(message)"), "\(result.stderr.prefix(300)) vs \(message)")
            XCTAssertLessThan(result.stderr.utf8.count, 400, "an echoed word is cut")
            XCTAssertFalse(result.stderr.contains("\u{1b}"))
        }
        // The highest pid the encoding holds still works, and names itself back.
        XCTAssertEqual(ClockID(name: "cpu:pid=268435455:sched")?.name, "cpu:pid=268435455:sched")
        XCTAssertEqual(ClockID(name: "cpu:pid=268435455:sched")?.cpuClockPID, 268_435_455)
    }

    func testUnknownKernelAndMissingFile() throws {
        let bad = try runTimerCRIU(["simulate", "--kernel", "linux-5.0", "/dev/null"])
        XCTAssertEqual(bad.status, TimerCRIUExit.usage)
        XCTAssertTrue(bad.stderr.contains("The value 'linux-5.0' is invalid for '--kernel <kernel>'"), bad.stderr)
        XCTAssertTrue(bad.stderr.contains("rfd-dense"), bad.stderr)
        let missing = try runTimerCRIU(["simulate", "/nonexistent/script"])
        XCTAssertEqual(missing.status, TimerCRIUExit.badInput)
        XCTAssertEqual(missing.stderr, "timer-criu: /nonexistent/script: no such file\n")
        let threads = try runTimerCRIU(["simulate", "--threads", "-1", "/dev/null"])
        XCTAssertEqual(threads.status, TimerCRIUExit.usage)
    }

    func testHostRunsInAFreshChild() throws {
        // Two runs in a row both start from counter 0: each is a fresh process.
        let path = try writeScript("create clock=1 notify=none\ncreate clock=1 notify=none\nprctl restore-ids=get\n")
        for _ in 0..<2 {
            let result = try runTimerCRIU(["simulate", "--kernel", "host", path])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(result.stdoutText.split(separator: "\n").prefix(2), ["0", "1"])
        }
    }

    func testEmptyScriptPrintsNothing() throws {
        let path = try writeScript("# nothing\n\n   \n")
        let result = try runTimerCRIU(["simulate", path])
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.stdoutText, "")
    }

    // MARK: In process

    func testKernelOptionParsing() throws {
        XCTAssertEqual(KernelOption(argument: "host"), .host)
        XCTAssertEqual(KernelOption(argument: "rfd-dense"), .model(.rfdDense))
        XCTAssertNil(KernelOption(argument: "linux-6.18"))
        XCTAssertEqual(KernelOption.allValueStrings,
                       ["linux-2.6", "linux-3.10", "linux-6.15", "rfd-cursor", "rfd-dense", "host"])
        let parsed = try Simulate.parse(["--kernel", "linux-3.10", "--threads", "3", "x.txt"])
        XCTAssertEqual(parsed.kernel, .model(.linux310))
        XCTAssertEqual(parsed.threads, 3)
        XCTAssertEqual(try Simulate.parse([]).kernel, .model(.linux615))
    }

    func testScriptParserValues() throws {
        let script = try SimulationScript.parse("""
            create clock=process-cputime notify=thread_id tid=1 signal=40 sival=0xdeadbeef id=7 # trailing comment
            settime id=7 value_ns=5 interval_ns=6 abs=1
            sleep ns=10
            """, threads: 2)
        XCTAssertEqual(script.lines.map(\.number), [1, 2, 3])
        XCTAssertEqual(script.lines[0].call, .create(clock: ClockID(-6), sigevent: .init(notify: 4, signal: 40, value: 0xdeadbeef,
                                                                                          target: .thread(1)), idBuffer: 7))
        XCTAssertEqual(script.lines[1].call, .settime(7, TimerValue(valueNanoseconds: 5, intervalNanoseconds: 6), absolute: true))
        XCTAssertEqual(script.outputLineCount, 3, "one line per call, sleep included")
    }

    // MARK: The oracle's options (Scripts/kernel-oracle.sh)

    /// --generate prints the differential test's scripts; the same seed
    /// gives the same script, and the script runs.
    func testGeneratePrintsTheDifferentialScripts() throws {
        let seven = try runTimerCRIU(["simulate", "--generate", "7"])
        XCTAssertEqual(seven.status, 0, seven.stderr)
        XCTAssertEqual(seven.stdoutText, DifferentialScripts.random(seed: 7))
        XCTAssertEqual(seven.stdoutText.split(separator: "\n").filter { !$0.hasPrefix("#") }.count, 160)
        XCTAssertNotEqual(seven.stdoutText, try runTimerCRIU(["simulate", "--generate", "8"]).stdoutText)
        let short = try runTimerCRIU(["simulate", "--generate", "7", "--calls", "5"])
        XCTAssertEqual(short.stdoutText.split(separator: "\n").count, 6)
        for name in ["kernel-facts", "alarms", "sigpending:3"] {
            let script = try runTimerCRIU(["simulate", "--generate", name])
            XCTAssertEqual(script.status, 0, script.stderr)
            let run = try runTimerCRIU(["simulate", "--kernel", "linux-3.10", "--threads", "2", try writeScript(script.stdoutText)])
            XCTAssertEqual(run.status, 0, "\(name): \(run.stderr)")
        }
        let bad = try runTimerCRIU(["simulate", "--generate", "sigpending:x"])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.contains("--generate"), bad.stderr)
    }

    /// --rtc: alarm clocks work for a process holding CAP_WAKE_ALARM (root);
    /// without it EPERM; without an RTC EOPNOTSUPP. Each failure takes an ID.
    func testRTCMachine() throws {
        let path = try writeScript("create clock=8\ncreate clock=boottime-alarm notify=none\ncreate clock=1\n")
        XCTAssertEqual(try runTimerCRIU(["simulate", "--kernel", "linux-3.10", path]).stdoutText, "EOPNOTSUPP\nEOPNOTSUPP\n2\n")
        XCTAssertEqual(try runTimerCRIU(["simulate", "--kernel", "linux-3.10", "--rtc", path]).stdoutText, "0\n1\n2\n")
        XCTAssertEqual(try runTimerCRIU(["simulate", "--kernel", "linux-3.10", "--rtc", "--drop-cap", "wake-alarm", path]).stdoutText,
                       "EPERM\nEPERM\n2\n")
        for flags in [["--rtc"], ["--drop-cap", "wake-alarm"]] {
            let host = try runTimerCRIU(["simulate", "--kernel", "host"] + flags + [path])
            XCTAssertEqual(host.status, 64, "\(flags)")
            XCTAssertEqual(host.stdoutText, "")
        }
    }

    /// --sigpending-limit: the model machine's RLIMIT_SIGPENDING, and the
    /// host child's own limit (0: every create that gets as far as the
    /// sigqueue fails, however many timers other processes hold).
    func testSigpendingLimit() throws {
        let path = try writeScript("create clock=1\ncreate clock=1\ncreate clock=4\ncreate clock=1\ndelete id=0\ncreate clock=1\n")
        let model = try runTimerCRIU(["simulate", "--kernel", "linux-3.10", "--sigpending-limit", "2", path])
        XCTAssertEqual(model.stdoutText, "0\n1\nEOPNOTSUPP\nEAGAIN\n0\n2\n")
        let zero = try writeScript("create clock=1\ncreate clock=4\ncreate clock=10\ncreate clock=1 notify=signal signal=0\n")
        for kernel in ["linux-3.10", "host"] {
            let run = try runTimerCRIU(["simulate", "--kernel", kernel, "--sigpending-limit", "0", zero])
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertEqual(run.stdoutText, "EAGAIN\nEOPNOTSUPP\nEINVAL\nEAGAIN\n", kernel)
        }
        let negative = try runTimerCRIU(["simulate", "--sigpending-limit=-1", path])
        XCTAssertEqual(negative.status, 64)
        XCTAssertTrue(negative.stderr.contains("--sigpending-limit must be 0 or more"), negative.stderr)
    }
}
