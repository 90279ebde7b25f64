import Foundation
import TestSupport
import HostKernel
import TimerCore
import TimerFormats
import TimerComparison
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The bad-input catalog (docs/reliability.md): every kind of
/// bad input `timer-criu` is promised to refuse, as one table. Each row is run
/// as the built binary and must give its documented exit code, one line on
/// stderr naming the problem (the row's words), nothing on stdout, and no
/// file written.
///
/// Checkpoint rows run twice: on the default model kernel (a model restore
/// prints its report on stdout, so an empty stdout shows the model was never
/// called) and with `--kernel host` under strace, which must show no second
/// execve (no restore helper started) and no timer_create or prctl at all.
///
/// `restore --into` rows run against a live fixture process, which must be
/// left exactly as it was: its fds, its fdinfo, /proc/PID/timers, its
/// RLIMIT_NOFILE and its itimers (read back by getitimer injected into it).
///
/// Usage errors (exit 64) come from ArgumentParser or `validate()`: the FIRST
/// stderr line is `Error: ...` naming the problem; ArgumentParser then prints
/// the usage lines, which the row does not check.
final class BadInputCatalogTests: XCTestCase {
    /// What a row runs: `timer-criu ARGUMENTS`, optionally as user 65534, and
    /// something to do while it runs (kill the dumped process mid-read).
    struct Invocation {
        var arguments: [String]
        var asNobody = false
        var whileRunning: (() -> Void)? = nil
        /// A process the command must leave unchanged (`restore --into` rows).
        var target: Int32? = nil
    }

    enum Kind { case dump, checkpoint, usage, file, into }

    struct Row {
        var name: String
        var kind: Kind
        var status: Int32
        /// Words the one stderr line (for usage errors: the first line) must contain.
        var words: [String]
        var make: (Context) throws -> Invocation
    }

    /// One row's scratch directory and the processes it started.
    final class Context {
        let directory: String
        /// Where dump rows write with -o; must not exist afterwards.
        var output: String { directory + "/out/checkpoint.json" }
        var cleanups: [() -> Void] = []

        init() throws {
            directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("tc-badinput-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory + "/out", withIntermediateDirectories: true)
            // User 65534 may need to write here (it must not, but a refusal must
            // come from the dump, not from the directory).
            chmod(directory, 0o777)
            chmod(directory + "/out", 0o777)
        }

        /// A file in the scratch directory with these bytes.
        func file(_ name: String, _ bytes: [UInt8]) throws -> String {
            let path = directory + "/" + name
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }

        func file(_ name: String, _ text: String) throws -> String { try file(name, Array(text.utf8)) }

        /// A sparse file of `size` zero bytes (no disk used).
        func sparseFile(_ name: String, size: Int) throws -> String {
            let path = directory + "/" + name
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else { throw TestSupportError("open \(path): errno \(errno)") }
            defer { close(fd) }
            guard ftruncate(fd, off_t(size)) == 0 else { throw TestSupportError("ftruncate: errno \(errno)") }
            return path
        }

        /// A FIFO in the scratch directory, with no writer.
        func fifo(_ name: String) throws -> String {
            let path = directory + "/" + name
            guard mkfifo(path, 0o644) == 0 else { throw TestSupportError("mkfifo \(path): errno \(errno)") }
            return path
        }

        func finish() {
            for cleanup in cleanups.reversed() { cleanup() }
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    // MARK: the table

    static let rows: [Row] = dumpRows + checkpointRows + usageRows + fileRows + intoRows

    static func dump(_ arguments: [String], _ context: Context) -> Invocation {
        Invocation(arguments: ["dump", "-o", context.output, "--"] + arguments)
    }

    static let dumpRows: [Row] = [
        Row(name: "dump: a pid that does not exist", kind: .dump, status: 3, words: ["no process with pid"]) { c in
            dump(["\(try unusedPID())"], c)
        },
        Row(name: "dump: pid 0", kind: .dump, status: 64, words: ["pid \"0\"", "not a process id"]) { c in dump(["0"], c) },
        Row(name: "dump: a negative pid", kind: .dump, status: 64, words: ["pid \"-5\"", "not a process id"]) { c in
            dump(["-5"], c)
        },
        Row(name: "dump: a negative pid without -- (not taken for an option)", kind: .dump, status: 64,
            words: ["pid \"-5\"", "not a process id"]) { c in
            Invocation(arguments: ["dump", "-o", c.output, "-5"])
        },
        Row(name: "dump: a pid given as text", kind: .dump, status: 64, words: ["pid \"abc\"", "not a process id"]) { c in
            dump(["abc"], c)
        },
        Row(name: "dump: a pid beyond pid_max", kind: .dump, status: 3, words: ["no process with pid"]) { c in
            dump(["\(try pidMax() + 1)"], c)
        },
        Row(name: "dump: a pid beyond INT_MAX", kind: .dump, status: 64, words: ["pid \"2147483648\"", "not a process id"]) { c in
            dump(["2147483648"], c)
        },
        Row(name: "dump: a kernel thread (kthreadd)", kind: .dump, status: 3, words: ["pid 2", "kernel thread"]) { c in
            let stat = (try? String(contentsOfFile: "/proc/2/stat", encoding: .utf8)) ?? ""
            guard stat.hasPrefix("2 (kthreadd)") else { throw XCTSkip("pid 2 is not kthreadd here (a pid namespace?)") }
            return dump(["2"], c)
        },
        Row(name: "dump: a /proc/PID/status not in the kernel's form", kind: .dump, status: 5,
            words: ["4242/status: line 2", "Tgid: \"12x\" is not a process id"]) { c in
            try fakeProc(c, status: "Name:\tx\nTgid:\t12x\n", stat: nil)
        },
        Row(name: "dump: a /proc/PID/stat not in the kernel's form", kind: .dump, status: 5,
            words: ["4242/stat: line 1", "6 fields, fewer than the 22"]) { c in
            try fakeProc(c, status: "Name:\tx\nTgid:\t4242\nState:\tS (sleeping)\n", stat: "4242 (x) S 1 1 1\n")
        },
        Row(name: "dump: a zombie", kind: .dump, status: 3, words: ["has exited", "zombie"]) { c in
            dump(["\(try makeZombie(c))"], c)
        },
        Row(name: "dump: a process that exits between the listing and the read", kind: .dump, status: 3,
            words: ["exited while its timers were being read"]) { c in
            let fixture = try FixtureProcess(["id=1", "id=2"])
            c.cleanups.append { fixture.stop() }
            var invocation = dump(["\(fixture.pid)"], c)
            // The hidden hook sleeps between reading task/ and timers.
            invocation.arguments.insert(contentsOf: ["--debug-pause-ms", "1500"], at: 1)
            invocation.whileRunning = {
                usleep(400_000)
                kill(fixture.pid, SIGKILL)  // a zombie until stop() reaps it
            }
            return invocation
        },
        // Nothing dump writes may fail its own loader.
        Row(name: "dump: --from-proc-file whose timers notify pid 0", kind: .dump, status: 2,
            words: ["timers.txt", "timer 3 notifies pid 0", "--pid"]) { c in
            Invocation(arguments: ["dump", "-o", c.output, "--from-proc-file", try c.file("timers.txt",
                "ID: 3\nsignal: 14/0000000000000000\nnotify: signal/pid.0\nClockID: 1\n")])
        },
        Row(name: "dump: --from-proc-file with a thread_id target 0", kind: .dump, status: 2,
            words: ["timers.txt", "timer 4", "thread_id target 0"]) { c in
            Invocation(arguments: ["dump", "-o", c.output, "--from-proc-file", try c.file("timers.txt",
                "ID: 3\nsignal: 14/0000000000000000\nnotify: signal/pid.100\nClockID: 1\n"
                + "ID: 4\nsignal: 14/0000000000000000\nnotify: signal/tid.0\nClockID: 1\n")])
        },
        Row(name: "dump: --from-proc-file with a signal 0 signal timer", kind: .dump, status: 2,
            words: ["timers.txt", "would become a checkpoint that restore refuses", "signal: 0"]) { c in
            Invocation(arguments: ["dump", "-o", c.output, "--from-proc-file", try c.file("timers.txt",
                "ID: 3\nsignal: 0/0000000000000000\nnotify: signal/pid.100\nClockID: 1\n")])
        },
        Row(name: "dump: --from-proc-file --pid 0", kind: .usage, status: 64, words: ["Error:", "--pid 0 is not a process id"]) { c in
            Invocation(arguments: ["dump", "-o", c.output, "--from-proc-file", try c.file("timers.txt",
                "ID: 3\nsignal: 14/0000000000000000\nnotify: signal/pid.100\nClockID: 1\n"), "--pid", "0"])
        },
        // The limit names what the file is.
        Row(name: "dump: --from-proc-file of 200 MB", kind: .dump, status: 2,
            words: ["timers.txt", "209715200 bytes", "128 MiB a saved /proc/PID/timers may have"]) { c in
            Invocation(arguments: ["dump", "-o", c.output, "--from-proc-file", try c.sparseFile("timers.txt", size: 200 << 20)])
        },
        Row(name: "dump: --from-proc-file FIFO", kind: .dump, status: 2, words: ["timers.fifo", "not a regular file", "a FIFO"]) { c in
            Invocation(arguments: ["dump", "-o", c.output, "--from-proc-file", try c.fifo("timers.fifo")])
        },
        Row(name: "dump: no permission (user 65534 against a root process)", kind: .dump, status: 4,
            words: ["/timers", "EACCES", "permission denied"]) { c in
            guard getuid() == 0 else { throw XCTSkip("needs root to switch to an unprivileged user") }
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { throw XCTSkip("no setpriv") }
            let fixture = try FixtureProcess(["id=1"])
            c.cleanups.append { fixture.stop() }
            var invocation = dump(["\(fixture.pid)"], c)
            invocation.asNobody = true
            return invocation
        },
    ]

    /// A checkpoint row: `restore FILE` where FILE is made by `make`.
    static func checkpoint(_ name: String, _ words: [String], _ make: @escaping (Context) throws -> String) -> Row {
        Row(name: "checkpoint: " + name, kind: .checkpoint, status: 2, words: words) { c in
            Invocation(arguments: ["restore", try make(c)])
        }
    }

    /// dump of process 4242 of a fake proc root (`--proc-root`) with these
    /// status and stat texts and no timers.
    static func fakeProc(_ c: Context, status: String, stat: String?) throws -> Invocation {
        let root = c.directory + "/proc"
        try FileManager.default.createDirectory(atPath: root + "/4242", withIntermediateDirectories: true)
        _ = try c.file("proc/4242/status", status)
        _ = try c.file("proc/4242/timers", "")
        if let stat { _ = try c.file("proc/4242/stat", stat) }
        return Invocation(arguments: ["dump", "-o", c.output, "--proc-root", root, "4242"])
    }

    /// A timer-criu/1 file of process 100 (threads 100, 101) with these timers.
    static func timers(_ c: Context, _ name: String, _ timers: String) throws -> String {
        try c.file(name, """
            {"format": "timer-criu/1", "pid": 100, "kernel": "6.18", "threads": [100, 101], "timers": [\(timers)], "warnings": []}
            """)
    }

    /// A timer-criu/2 file of process 100 with no POSIX timers and these timerfds.
    static func timerFDs(_ c: Context, _ name: String, _ timerFDs: String) throws -> String {
        try c.file(name, """
            {"format": "timer-criu/2", "pid": 100, "kernel": "6.18", "threads": [100], "timers": [], "timerfds": [\(timerFDs)], "warnings": []}
            """)
    }

    /// One timerfd, the given fields replacing the defaults.
    static func timerFD(_ fields: [String: String] = [:]) -> String {
        let defaults: [(String, String)] = [
            ("fd", "7"), ("clock_id", "1"), ("flags", "\"0x80800\""), ("settime_flags", "0"), ("ticks", "0"),
            ("value_ns", "1000000000"), ("interval_ns", "0"),
        ]
        return "{" + defaults.map { (key, value) in "\"\(key)\": \(fields[key] ?? value)" }.joined(separator: ", ") + "}"
    }

    /// One timer, the given fields replacing the defaults; `clock` is the
    /// name of the clock_id given (unless given itself).
    static func timer(_ fields: [String: String] = [:]) -> String {
        let clockID = fields["clock_id"] ?? "1"
        let clockName = Int32(clockID).map { "\"\(ClockID($0).name)\"" } ?? "\"monotonic\""
        let defaults: [(String, String)] = [
            ("id", "7"), ("clock_id", "1"), ("clock", clockName), ("signal", "14"), ("sigev_value", "\"0x0\""),
            ("notify", "\"signal\""), ("notify_target", "100"),
        ]
        var members = defaults.map { (key, value) in "\"\(key)\": \(fields[key] ?? value)" }
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) where !defaults.contains(where: { $0.0 == key }) {
            members.append("\"\(key)\": \(value)")
        }
        return "{" + members.joined(separator: ", ") + "}"
    }

    static let checkpointRows: [Row] = [
        checkpoint("an empty file", ["empty.json", "not JSON", "unexpected end"]) { c in try c.file("empty.json", "") },
        checkpoint("a directory that is not a CRIU image directory", ["notcriu", "not a CRIU image directory"]) { c in
            let path = c.directory + "/notcriu"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            _ = try c.file("notcriu/README", "not an image")
            return path
        },
        checkpoint("not JSON", ["notjson.json", "not JSON", "line 1, column 1"]) { c in
            try c.file("notjson.json", "ID: 1\nsignal: 14/0000000000000000\n")
        },
        checkpoint("JSON of another shape", ["shape.json", "expected an object, found an array"]) { c in
            try c.file("shape.json", "[{\"id\": 1}]")
        },
        checkpoint("an unknown format", ["format.json", "format", "timer-criu/3", "is not timer-criu/1 or timer-criu/2"]) { c in
            try c.file("format.json", "{\"format\": \"timer-criu/3\", \"pid\": 1, \"kernel\": \"6.18\", \"timers\": []}")
        },
        checkpoint("timerfds in a timer-criu/1 file", ["v1-timerfds.json", "unknown field \"timerfds\""]) { c in
            try c.file("v1-timerfds.json", "{\"format\": \"timer-criu/1\", \"pid\": 1, \"kernel\": \"6.18\", \"timers\": [], \"timerfds\": []}")
        },
        checkpoint("a timerfd on CLOCK_TAI", ["tfd-tai.json", "timerfds[0].clock_id", "11", "timerfd_create refuses with EINVAL"]) { c in
            try timerFDs(c, "tfd-tai.json", timerFD(["clock_id": "11"]))
        },
        checkpoint("two timerfds at one fd", ["tfd-dup.json", "timerfds[1].fd", "appears twice"]) { c in
            try timerFDs(c, "tfd-dup.json", timerFD() + ", " + timerFD())
        },
        checkpoint("a timerfd with an access mode in flags", ["tfd-flags.json", "timerfds[0].flags", "0x802", "cannot have"]) { c in
            try timerFDs(c, "tfd-flags.json", timerFD(["flags": "\"0x802\""]))
        },
        checkpoint("a timerfd with settime_flags 4", ["tfd-settime.json", "timerfds[0].settime_flags", "4 is outside 0...3"]) { c in
            try timerFDs(c, "tfd-settime.json", timerFD(["settime_flags": "4"]))
        },
        checkpoint("an itimer without interval_ns", ["itimer.json", "itimers.virtual", "missing field \"interval_ns\""]) { c in
            try c.file("itimer.json", """
                {"format": "timer-criu/2", "pid": 100, "kernel": "6.18", "timers": [], "itimers": \
                {"real": {"value_ns": 0, "interval_ns": 0}, "virtual": {"value_ns": 5}, "prof": {"value_ns": 0, "interval_ns": 0}}}
                """)
        },
        checkpoint("duplicate IDs", ["dup.json", "timers[1].id", "appears twice"]) { c in
            try timers(c, "dup.json", timer() + ", " + timer())
        },
        checkpoint("ID -1", ["id-minus-1.json", "timers[0].id", "-1 is outside 0...2147483647"]) { c in
            try timers(c, "id-minus-1.json", timer(["id": "-1"]))
        },
        checkpoint("ID 2147483648", ["id-big.json", "timers[0].id", "2147483648 is outside 0...2147483647"]) { c in
            try timers(c, "id-big.json", timer(["id": "2147483648"]))
        },
        checkpoint("ID 1e3", ["id-exp.json", "timers[0].id", "1e3 is not an integer"]) { c in
            try timers(c, "id-exp.json", timer(["id": "1e3"]))
        },
        checkpoint("ID \"7\" (a string)", ["id-string.json", "timers[0].id", "expected an integer, found a string"]) { c in
            try timers(c, "id-string.json", timer(["id": "\"7\""]))
        },
        checkpoint("signal 0", ["signal-0.json", "signal", "0 is outside 1...64", "EINVAL"]) { c in
            try timers(c, "signal-0.json", timer(["signal": "0"]))
        },
        checkpoint("signal 65", ["signal-65.json", "signal", "65 is outside 1...64", "EINVAL"]) { c in
            try timers(c, "signal-65.json", timer(["signal": "65", "notify": "\"thread_id\"", "notify_target": "101"]))
        },
        checkpoint("an unknown notify", ["notify.json", "timers[0].notify", "\"thread_signal\" is not signal, none, thread or thread_id"]) { c in
            try timers(c, "notify.json", timer(["notify": "\"thread_signal\""]))
        },
        checkpoint("a thread_id target that is not among the threads", ["tid.json", "notify_target", "thread 555", "not among the checkpoint's threads"]) { c in
            try timers(c, "tid.json", timer(["notify": "\"thread_id\"", "notify_target": "555"]))
        },
        checkpoint("a clock without timers (4, monotonic-raw)", ["clock-4.json", "clock_id", "EOPNOTSUPP"]) { c in
            try timers(c, "clock-4.json", timer(["clock_id": "4"]))
        },
        checkpoint("a clock the kernel does not know (10)", ["clock-10.json", "clock_id", "10", "EINVAL"]) { c in
            try timers(c, "clock-10.json", timer(["clock_id": "10"]))
        },
        checkpoint("a clock id as passed to timer_create (2), never listed", ["clock-2.json", "clock_id", "2", "-6"]) { c in
            try timers(c, "clock-2.json", timer(["clock_id": "2", "clock": "\"process-cputime-request\""]))
        },
        checkpoint("a clock id as passed to timer_create (3), never listed", ["clock-3.json", "clock_id", "3", "-2"]) { c in
            try timers(c, "clock-3.json", timer(["clock_id": "3", "clock": "\"thread-cputime-request\""]))
        },
        checkpoint("a CPU clock of type 3 (-1)", ["clock-minus-1.json", "clock_id", "-1", "EINVAL"]) { c in
            try timers(c, "clock-minus-1.json", timer(["clock_id": "-1"]))
        },
        checkpoint("a sigev_value that is not 64-bit hex", ["sival.json", "sigev_value", "1 to 16 hex digits"]) { c in
            try timers(c, "sival.json", timer(["sigev_value": "\"0x1ffffffffffffffff\""]))
        },
        checkpoint("a sigev_value that is a number", ["sival-number.json", "sigev_value", "expected a string"]) { c in
            try timers(c, "sival-number.json", timer(["sigev_value": "3735928559"]))
        },
        checkpoint("value_ns below 0", ["value.json", "value_ns", "-1 is outside 0..."]) { c in
            try timers(c, "value.json", timer(["value_ns": "-1", "interval_ns": "0"]))
        },
        checkpoint("a CRIU image whose interval has insec >= 1e9", ["core-4242.img", "insec 1000000000 is not below 1000000000"]) { c in
            try c.file("core-4242.img", criuCoreImage(insec: 1_000_000_000))
        },
        checkpoint("a file of 600 MB", ["big.json", "629145600 bytes", "512 MiB a timer-criu/1 checkpoint may have"]) { c in
            try c.sparseFile("big.json", size: 600 << 20)
        },
        checkpoint("a file that is not UTF-8", ["latin1.json", "not valid UTF-8"]) { c in
            try c.file("latin1.json", Array("{\"format\": \"timer-criu/1\", \"pid\": 1, \"kernel\": \"".utf8)
                + [0x36, 0x2e, 0xe9, 0xff] + Array("\", \"timers\": []}".utf8))
        },
        checkpoint("a file that does not exist", ["missing.json", "ENOENT"]) { c in c.directory + "/missing.json" },
        // The reader is as strict as the schema.
        checkpoint("a sigev_value with a sign (0x+1)", ["sival-plus.json", "sigev_value", "\"0x+1\"", "1 to 16 hex digits"]) { c in
            try timers(c, "sival-plus.json", timer(["sigev_value": "\"0x+1\""]))
        },
        checkpoint("a sigev_value of 0x-0", ["sival-minus.json", "sigev_value", "\"0x-0\"", "1 to 16 hex digits"]) { c in
            try timers(c, "sival-minus.json", timer(["sigev_value": "\"0x-0\""]))
        },
        checkpoint("a sigev_value with 0X", ["sival-0X.json", "sigev_value", "\"0X1\"", "1 to 16 hex digits"]) { c in
            try timers(c, "sival-0X.json", timer(["sigev_value": "\"0X1\""]))
        },
        checkpoint("a timer without its clock name", ["noclock.json", "timers[0]", "missing field \"clock\""]) { c in
            try timers(c, "noclock.json", timer().replacingOccurrences(of: "\"clock\": \"monotonic\", ", with: ""))
        },
        checkpoint("a clock name that does not match clock_id", ["clockname.json", "timers[0].clock", "does not match clock_id 1"]) { c in
            try timers(c, "clockname.json", timer(["clock": "\"realtime\""]))
        },
        checkpoint("no warnings member", ["nowarnings.json", "missing field \"warnings\""]) { c in
            try c.file("nowarnings.json", """
                {"format": "timer-criu/1", "pid": 100, "kernel": "6.18", "threads": [100], "timers": [\(timer())]}
                """)
        },
        checkpoint("an empty threads list", ["threads-empty.json", "threads", "is empty"]) { c in
            try c.file("threads-empty.json", """
                {"format": "timer-criu/1", "pid": 100, "kernel": "6.18", "threads": [], "timers": [], "warnings": []}
                """)
        },
        checkpoint("threads without the pid", ["threads-nopid.json", "threads[0]", "main thread", "not listed"]) { c in
            try c.file("threads-nopid.json", """
                {"format": "timer-criu/1", "pid": 100, "kernel": "6.18", "threads": [101], "timers": [], "warnings": []}
                """)
        },
        checkpoint("threads with the pid not first", ["threads-order.json", "threads[0]", "101", "main thread", "comes first"]) { c in
            try c.file("threads-order.json", """
                {"format": "timer-criu/1", "pid": 100, "kernel": "6.18", "threads": [101, 100], "timers": [], "warnings": []}
                """)
        },
        // Echoed input is escaped and cut (the check below
        // holds every row's line to 600 bytes without control characters).
        checkpoint("an unknown field of 1 MB with an ESC", ["bigkey.json", "unknown field", "\\e[31m", "bytes)"]) { c in
            try timers(c, "bigkey.json", timer(["\\u001b[31m" + String(repeating: "k", count: 1 << 20): "1"]))
        },
        checkpoint("a format string with a CR", ["crformat.json", "format", "\\r", "is not timer-criu/1"]) { c in
            try c.file("crformat.json", "{\"format\": \"timer-criu/1\\r\", \"pid\": 1, \"kernel\": \"x\", \"timers\": [], \"warnings\": []}")
        },
        // FIFOs: open() of a FIFO without a writer blocks
        // for ever; each is refused by its file type instead.
        checkpoint("a FIFO", ["fifo.json", "not a regular file", "a FIFO"]) { c in try c.fifo("fifo.json") },
        checkpoint("a symlink to a FIFO", ["link.json", "not a regular file", "a FIFO"]) { c in
            let path = c.directory + "/link.json"
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: try c.fifo("target"))
            return path
        },
        checkpoint("a FIFO as a core image of a CRIU directory without pstree.img",
                   ["core-4243.img", "not a regular file", "a FIFO"]) { c in
            try FileManager.default.createDirectory(atPath: c.directory + "/criu", withIntermediateDirectories: true)
            _ = try c.file("criu/core-4242.img", criuCoreImage(insec: 0))
            _ = try c.fifo("criu/core-4243.img")
            return c.directory + "/criu"
        },
        checkpoint("a FIFO as a member of a tree", ["100.json", "not a regular file", "a FIFO"]) { c in
            try FileManager.default.createDirectory(atPath: c.directory + "/tree", withIntermediateDirectories: true)
            _ = try c.file("tree/index.json", """
                {"format": "timer-criu-tree/1", "root": 100, "processes": [{"pid": 100, "ppid": 1, "file": "100.json"}]}
                """)
            _ = try c.fifo("tree/100.json")
            return c.directory + "/tree"
        },
    ]

    /// A costs file (docs/compare.md) whose seven figures are all `figure`,
    /// except create_delete_pair.
    static func costs(_ c: Context, figure: String, pair: String) throws -> String {
        try c.file("costs.json", """
            {"format": "timer-criu-costs/1", "kernel": "6.18", "live_timers": 0, "source": "test", "nanoseconds": {
            "create_delete_pair": \(pair), "create": \(figure), "create_at_id": \(figure), "delete": \(figure),
            "settime": \(figure), "prctl": \(figure), "sysctl_write": \(figure)}}
            """)
    }

    /// A copy of the CRIU fixture with a dead notify thread, in the row's directory.
    static func criuCopy(_ c: Context) throws -> String {
        let copy = c.directory + "/case9"
        try FileManager.default.copyItem(atPath: BuiltProducts.repositoryRoot + "/Tests/Fixtures/criu/timers-case9", toPath: copy)
        return copy
    }

    /// Other input files (costs, scripts): exit 2, one line, nothing on stdout.
    static let fileRows: [Row] = [
        // A dance to INT_MAX at 5 s a pair projected past Int64.max (exit 132).
        Row(name: "costs: a create_delete_pair of 5 s", kind: .file, status: 2,
            words: ["costs.json", "create_delete_pair", "5e9 is not a cost"]) { c in
            Invocation(arguments: ["compare", "--json", "--costs", try costs(c, figure: "100", pair: "5e9"),
                                   try timers(c, "max.json", timer(["id": "2147483647"]))])
        },
        Row(name: "costs: a create_delete_pair of 5 s with --sweep", kind: .file, status: 2,
            words: ["costs.json", "create_delete_pair", "5e9 is not a cost"]) { c in
            Invocation(arguments: ["compare", "--sweep", "--json", "--costs", try costs(c, figure: "100", pair: "5e9")])
        },
        // Denormal figures ("> 0") made the SVG's coordinates infinite.
        Row(name: "costs: denormal figures with --svg", kind: .file, status: 2,
            words: ["costs.json", "5e-324 is not a cost"]) { c in
            Invocation(arguments: ["compare", "--svg", "-", "--costs", try costs(c, figure: "5e-324", pair: "5e-324"),
                                   try timers(c, "ok.json", timer())])
        },
        Row(name: "costs: denormal figures with --sweep --svg", kind: .file, status: 2,
            words: ["costs.json", "5e-324 is not a cost"]) { c in
            Invocation(arguments: ["compare", "--sweep", "--svg", "-", "--costs", try costs(c, figure: "5e-324", pair: "5e-324")])
        },
        // criu fix / criu strip refuse as inspect does and write nothing.
        Row(name: "criu fix: a truncated core image", kind: .file, status: 2,
            words: ["core-8803.img", "byte 8", "runs past the end of the file"]) { c in
            let input = try criuCopy(c)
            let core = input + "/core-8803.img"
            try Data(try Data(contentsOf: URL(fileURLWithPath: core)).prefix(1000)).write(to: URL(fileURLWithPath: core))
            return Invocation(arguments: ["criu", "fix", input, "-o", c.directory + "/out/fixed"])
        },
        Row(name: "criu strip: a FIFO in the image directory", kind: .file, status: 2,
            words: ["pipe", "a FIFO, not a file"]) { c in
            let input = try criuCopy(c)
            guard mkfifo(input + "/pipe", 0o644) == 0 else { throw TestSupportError("mkfifo: errno \(errno)") }
            return Invocation(arguments: ["criu", "strip", input, "-o", c.directory + "/out/stripped"])
        },
        Row(name: "criu fix: OUT exists and is not empty", kind: .file, status: 73,
            words: ["cannot write", "not empty"]) { c in
            let full = c.directory + "/full"
            try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: false)
            _ = try c.file("full/mine", "x")
            return Invocation(arguments: ["criu", "fix", try criuCopy(c), "-o", full])
        },
    ]

    /// `restore CKPT --into PID` of a checkpoint holding a POSIX timer, the
    /// timerfds `fds` and an ITIMER_REAL, into a fixture that has its own.
    static func into(_ c: Context, fds: [Int32], target arguments: [String]) throws -> Invocation {
        var checkpoint = Checkpoint(pid: 4242, kernel: "6.18", threads: [4242], timers: [
            CheckpointTimer(id: 300, clockID: .monotonic, signal: 14, sigevValue: 0, notify: .none, notifyTarget: 4242,
                            valueNanoseconds: 30_000_000_000, intervalNanoseconds: 0, overrun: 0),
        ])
        checkpoint.timerFDs = fds.map {
            CheckpointTimerFD(fd: $0, clockID: .boottime, flags: 0, settimeFlags: 0, ticks: 0,
                              valueNanoseconds: 40_000_000_000, intervalNanoseconds: 1_000_000_000)
        }
        checkpoint.itimers = CheckpointITimers(real: TimerValue(valueNanoseconds: 50_000_000_000, intervalNanoseconds: 0))
        let path = try c.file("into.json", checkpoint.jsonBytes())
        let target = try FixtureProcess(["id=5", "--timerfd", "fd=7,clock=realtime,arm=60s,interval=2s",
                                         "--itimer", "which=real,arm=60s"] + arguments)
        c.cleanups.append { target.stop() }
        return Invocation(arguments: ["restore", path, "--into", "\(target.pid)"], target: target.pid)
    }

    static let intoRows: [Row] = [
        Row(name: "restore --into: a timerfd whose fd number is taken in the target", kind: .into, status: 1,
            words: ["timerfd 7: fd 7 is already open in process", "refused, nothing changed"]) { c in
            try into(c, fds: [7], target: [])
        },
        Row(name: "restore --into: a timerfd above the target's hard RLIMIT_NOFILE", kind: .into, status: 1,
            words: ["timerfd 5000: fd 5000 is not below the RLIMIT_NOFILE hard limit 2048", "refused, nothing changed"]) { c in
            let invocation = try into(c, fds: [20, 5000], target: [])
            try HostKernel.setFDLimit(FDLimit(soft: 1024, hard: 2048), of: invocation.target!)
            return invocation
        },
    ]

    static let usageRows: [Row] = [
        Row(name: "flags: an unknown kernel profile", kind: .usage, status: 64,
            words: ["Error:", "'linux-9'", "--kernel"]) { c in
            Invocation(arguments: ["restore", "--kernel", "linux-9", try timers(c, "ok.json", timer())])
        },
        Row(name: "flags: an unknown strategy", kind: .usage, status: 64, words: ["Error:", "'fast'", "--strategy"]) { c in
            Invocation(arguments: ["restore", "--strategy", "fast", try timers(c, "ok.json", timer())])
        },
        Row(name: "flags: an unknown --dead-thread-notify", kind: .usage, status: 64,
            words: ["Error:", "'maybe'", "--dead-thread-notify"]) { c in
            Invocation(arguments: ["restore", "--dead-thread-notify", "maybe", try timers(c, "ok.json", timer())])
        },
        Row(name: "flags: --hold without --kernel host (conflicting options)", kind: .usage, status: 64,
            words: ["Error:", "--hold needs --kernel host"]) { c in
            Invocation(arguments: ["restore", "--hold", "--kernel", "linux-6.15", try timers(c, "ok.json", timer())])
        },
        Row(name: "flags: an unknown option", kind: .usage, status: 64, words: ["Error:", "Unknown option '--force'"]) { c in
            Invocation(arguments: ["restore", "--force", try timers(c, "ok.json", timer())])
        },
        Row(name: "flags: simulate on an unknown kernel", kind: .usage, status: 64, words: ["Error:", "'nope'", "--kernel"]) { _ in
            Invocation(arguments: ["simulate", "--kernel", "nope"])
        },
        Row(name: "flags: dump without a pid", kind: .usage, status: 64, words: ["Error:", "missing the pid to dump"]) { _ in
            Invocation(arguments: ["dump"])
        },
        Row(name: "flags: compare --run-limit -1 (says what is wrong, not \"Missing value\")", kind: .usage, status: 64,
            words: ["Error:", "--run-limit must be at least 1"]) { c in
            Invocation(arguments: ["compare", "--run-limit", "-1", try timers(c, "ok.json", timer())])
        },
        Row(name: "flags: memory --svg without --sweep", kind: .usage, status: 64,
            words: ["Error:", "--svg draws the sweep: add --sweep"]) { c in
            Invocation(arguments: ["memory", "--svg", c.directory + "/out/m.svg", try timers(c, "ok.json", timer())])
        },
        Row(name: "flags: memory --sweep --svg \"\" (an empty output path)", kind: .usage, status: 64,
            words: ["Error:", "--svg needs a file name", "not an empty string"]) { _ in
            Invocation(arguments: ["memory", "--sweep", "--svg", ""])
        },
        Row(name: "flags: calibrate --rounds -1", kind: .usage, status: 64, words: ["Error:", "--rounds must be 1...101"]) { _ in
            Invocation(arguments: ["calibrate", "--rounds", "-1"])
        },
        Row(name: "flags: dump --from-proc-file --pid -3", kind: .usage, status: 64,
            words: ["Error:", "--pid -3 is not a process id"]) { c in
            Invocation(arguments: ["dump", "--from-proc-file", try c.file("saved.txt", "ID: 1\n"), "--pid", "-3"])
        },
        Row(name: "flags: dump -o \"\" (an empty output path)", kind: .usage, status: 64,
            words: ["Error:", "-o needs a file name", "not an empty string"]) { _ in
            Invocation(arguments: ["dump", "-o", "", "1"])
        },
        Row(name: "flags: dump --tree -o - (a tree cannot go to stdout)", kind: .usage, status: 64,
            words: ["Error:", "--tree writes a directory"]) { _ in
            Invocation(arguments: ["dump", "--tree", "-o", "-", "1"])
        },
        Row(name: "flags: criu fix without -o", kind: .usage, status: 64, words: ["Error:", "--output"]) { c in
            Invocation(arguments: ["criu", "fix", try criuCopy(c)])
        },
        Row(name: "flags: criu fix --dead-thread-notify thread", kind: .usage, status: 64,
            words: ["Error:", "'thread'", "--dead-thread-notify"]) { c in
            Invocation(arguments: ["criu", "fix", try criuCopy(c), "-o", c.directory + "/out/x", "--dead-thread-notify", "thread"])
        },
        Row(name: "flags: an unknown subcommand", kind: .usage, status: 64, words: ["Error:", "'undump'"]) { _ in
            Invocation(arguments: ["undump", "1"])
        },
    ]

    // MARK: the test

    func testEveryBadInputIsRefusedCleanly() throws {
        let binary = try BuiltProducts.path("timer-criu")
        let strace = ["/usr/bin/strace", "/bin/strace"].first { FileManager.default.isExecutableFile(atPath: $0) }
        var skipped: [String] = []
        for row in Self.rows {
            let context = try Context()
            defer { context.finish() }
            let invocation: Invocation
            do { invocation = try row.make(context) } catch let skip as XCTSkip {
                skipped.append("\(row.name): \(skip.message ?? "")")
                continue
            }
            let before = try invocation.target.map { try TargetState(pid: $0) }
            let result = try run(binary, invocation)
            if let before, let pid = invocation.target {
                let after = try TargetState(pid: pid)
                for difference in before.differences(to: after) {
                    XCTFail("\(row.name): the target changed: \(difference)")
                }
                if let unread = after.itimersUnread { skipped.append("\(row.name): its itimers not compared: \(unread)") }
            }
            if invocation.asNobody, result.status == 126 || result.status == 127 {
                skipped.append("\(row.name): user 65534 cannot run \(binary)")
                continue
            }
            check(row, result, context)

            // Checkpoint rows: the host restore must refuse before it starts
            // its helper process or makes any timer syscall.
            if row.kind == .checkpoint {
                guard let strace else { skipped.append("\(row.name) on the host: no strace"); continue }
                let trace = context.directory + "/strace.txt"
                var host = invocation
                host.arguments = ["-f", "-qq", "-o", trace, "-e", "trace=execve,timer_create,prctl", binary]
                    + [host.arguments[0], "--kernel", "host"] + host.arguments.dropFirst()
                let traced = try runCommand(strace, host.arguments, timeout: 60)
                if traced.stderr.contains("PTRACE_TRACEME") || traced.stderr.contains("ptrace(") {
                    skipped.append("\(row.name) on the host: strace cannot trace here: \(traced.stderr)")
                    continue
                }
                check(row, traced, context, label: " (--kernel host)")
                let lines = ((try? String(contentsOfFile: trace, encoding: .utf8)) ?? "")
                    .split(separator: "\n").map(String.init)
                XCTAssertEqual(lines.filter { $0.contains("execve(") }.count, 1,
                               "\(row.name): the host restore started a process:\n\(lines.joined(separator: "\n"))")
                XCTAssertTrue(lines.filter { $0.contains("timer_create(") || $0.contains("prctl(") }.isEmpty,
                              "\(row.name): timer syscalls before the refusal:\n\(lines.joined(separator: "\n"))")
            }
        }
        print("bad-input catalog: \(Self.rows.count) rows, \(skipped.count) skipped\(skipped.isEmpty ? "" : ": " + skipped.joined(separator: "; "))")
    }

    /// Rows the schema cannot refuse: rules across fields or about the
    /// text's form, which JSON Schema cannot state; the loader (and
    /// docs/format.md) has them. Every other row is refused by both.
    static let rulesBeyondTheSchema: [String: String] = [
        "checkpoint: duplicate IDs": "unique timer IDs (uniqueItems compares whole timers)",
        "checkpoint: ID 1e3": "integers in plain decimal (to JSON Schema 1e3 is the integer 1000)",
        "checkpoint: signal 0": "a signal 1...64 for notify signal/thread/thread_id (validation)",
        "checkpoint: signal 65": "a signal 1...64 for notify signal/thread/thread_id (validation)",
        "checkpoint: a thread_id target that is not among the threads": "thread_id targets among the threads (validation)",
        "checkpoint: a CPU clock of type 3 (-1)": "a CPU clock type 0-2 (validation)",
        "checkpoint: a clock name that does not match clock_id": "clock is the name of clock_id",
        "checkpoint: threads without the pid": "the pid is threads[0]",
        "checkpoint: threads with the pid not first": "the pid is threads[0]",
    ]

    /// Every catalog checkpoint that is a JSON file goes
    /// through the schema (docs/timer-criu-1.schema.json) and the loader, and
    /// both refuse it (or the row is a rule beyond the schema); the files
    /// dump writes pass both.
    func testSchemaAndLoaderAgreeOnEveryRow() throws {
        let schemaURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/timer-criu-1.schema.json")
        let validator1 = JSONSchemaValidator(schema: try JSONValue.parse(Array(try Data(contentsOf: schemaURL))))
        let validator2 = JSONSchemaValidator(schema: try JSONValue.parse(Array(try Data(contentsOf:
            schemaURL.deletingLastPathComponent().appendingPathComponent("timer-criu-2.schema.json")))))
        // Each file against the schema of its format (timer-criu/1 for any other).
        func validator(_ document: JSONValue) -> JSONSchemaValidator {
            document["format"] == .string("timer-criu/2") ? validator2 : validator1
        }
        var compared = 0
        for row in Self.rows where row.kind == .checkpoint {
            let context = try Context()
            defer { context.finish() }
            guard let path = try row.make(context).arguments.last, path.hasSuffix(".json"),
                  let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                  attributes[.type] as? FileAttributeType == .typeRegular,
                  let size = attributes[.size] as? Int, size < 8 << 20,
                  let document = try? JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
            else { continue }  // not a JSON document: no schema applies
            compared += 1
            let schemaProblems = validator(document).validate(document)
            var loaderRefusal: String?
            do { _ = try CheckpointSource.load(path: path) } catch { loaderRefusal = error.description }
            XCTAssertNotNil(loaderRefusal, "\(row.name): the loader accepts it")
            if let rule = Self.rulesBeyondTheSchema[row.name] {
                XCTAssertEqual(schemaProblems, [], "\(row.name) is listed as beyond the schema (\(rule)), but the schema refuses it")
            } else {
                XCTAssertNotEqual(schemaProblems, [], "\(row.name): the loader refuses it (\(loaderRefusal ?? "")) but the schema accepts it")
            }
        }
        XCTAssertGreaterThan(compared, 25)
        // And what dump writes, both accept.
        let corpus = schemaURL.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz/corpus/checkpoint-json")
        for name in try FileManager.default.contentsOfDirectory(atPath: corpus.path) where name.hasSuffix(".json") {
            let path = corpus.appendingPathComponent(name).path
            let document = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
            XCTAssertEqual(validator(document).validate(document), [], name)
            XCTAssertNoThrow(try CheckpointSource.load(path: path), name)
        }
        let context = try Context()
        defer { context.finish() }
        let good = try Self.timers(context, "good.json", Self.timer(["sigev_value": "\"0xDEADbeef\""]))
        let goodDocument = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: good))))
        XCTAssertEqual(validator(goodDocument).validate(goodDocument), [])
        XCTAssertNoThrow(try CheckpointSource.load(path: good))
    }

    func check(_ row: Row, _ result: CommandResult, _ context: Context, label: String = "",
               file: StaticString = #filePath, line: UInt = #line) {
        let name = row.name + label
        XCTAssertEqual(result.status, row.status, "\(name): exit status; stderr: \(result.stderr)", file: file, line: line)
        XCTAssertEqual(result.stdout.count, 0, "\(name): stdout must be empty, got: \(result.stdoutText)", file: file, line: line)
        let lines = result.stderrLines
        let message = lines.first ?? ""
        if row.kind == .usage {
            XCTAssertTrue(message.hasPrefix("Error: "), "\(name): first line: \(message)", file: file, line: line)
        } else {
            XCTAssertEqual(lines.count, 1, "\(name): one line on stderr, got:\n\(result.stderr)", file: file, line: line)
            XCTAssertTrue(message.hasPrefix("timer-criu: "), "\(name): \(message)", file: file, line: line)
        }
        for word in row.words {
            XCTAssertTrue(message.contains(word), "\(name): \"\(word)\" not in: \(message)", file: file, line: line)
        }
        // Every message is short and has no control character.
        XCTAssertLessThan(message.utf8.count, 600, "\(name): a message of \(message.utf8.count) bytes", file: file, line: line)
        XCTAssertFalse(message.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f },
                       "\(name): a control character in: \(message.debugDescription)", file: file, line: line)
        // Nothing written: the -o directory holds no file, not even a temporary one.
        let written = (try? FileManager.default.contentsOfDirectory(atPath: context.directory + "/out")) ?? []
        XCTAssertEqual(written, [], "\(name): files were written", file: file, line: line)
    }

    func run(_ binary: String, _ invocation: Invocation) throws -> CommandResult {
        let path = invocation.asNobody ? "/usr/bin/setpriv" : binary
        let arguments = invocation.asNobody
            ? ["--reuid=65534", "--regid=65534", "--clear-groups", binary] + invocation.arguments
            : invocation.arguments
        // A row that hangs (a FIFO opened blocking) fails instead of stopping the suite.
        guard let action = invocation.whileRunning else { return try runCommand(path, arguments, timeout: 60) }
        // The command runs on its own thread while `action` acts on the target.
        final class Outcome: @unchecked Sendable { var result: Result<CommandResult, Error>? }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            outcome.result = Result { try runCommand(path, arguments) }
            done.signal()
        }
        action()
        done.wait()  // the semaphore orders the write before this read
        return try outcome.result!.get()
    }

    // MARK: helpers

    /// What a refused `restore --into` must not change in its target.
    struct TargetState {
        var fds: Set<Int32>
        /// fdinfo of each fd without `it_value` (a timerfd's time left runs on).
        var fdinfo: [Int32: [String]]
        var timers: [UInt8]
        var fdLimit: FDLimit
        var tracerAndState: String
        /// ITIMER_REAL, VIRTUAL, PROF by getitimer injected into it (nil when injection is not possible here).
        var itimers: [TimerValue]?
        var itimersUnread: String?

        init(pid: Int32) throws {
            fds = try XCTUnwrap(ProcFS.openFDs(pid: pid), "fds of \(pid)")
            fdinfo = [:]
            for fd in fds {
                let text = (try? String(contentsOfFile: "/proc/\(pid)/fdinfo/\(fd)", encoding: .utf8)) ?? "(unreadable)"
                fdinfo[fd] = text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("it_value:") }
            }
            timers = try ProcFS.readTimers(pid: pid)
            fdLimit = try HostKernel.fdLimit(of: pid)
            // Traced or stopped (R and S come and go as it runs).
            let status = try XCTUnwrap(ProcFS.status(pid: pid), "/proc/\(pid)/status")
            let stopped = status.state == "T" || status.state == "t"   // stopped, tracing stop
            tracerAndState = "TracerPid: \(status.tracerPID.map(String.init) ?? "?")" + (stopped ? ", stopped" : ", not stopped")
            var batch = SyscallBatch()
            let slots = (0..<3).map { _ in batch.block(bytes: 32) }
            let calls = (0..<3).map { batch.add(36, [.value(UInt64($0)), .block(slots[$0])]) }   // getitimer
            do {
                try InjectionSession.runOnce(pid: pid, &batch)
                itimers = (0..<3).map { which in
                    let words = (0..<4).map { batch.load(Int64.self, at: slots[which] + 8 * $0) }
                    return batch.result(calls[which]) == 0
                        ? TimerValue(valueNanoseconds: words[2] * 1_000_000_000 + words[3] * 1000,
                                     intervalNanoseconds: words[0] * 1_000_000_000 + words[1] * 1000)
                        : TimerValue(valueNanoseconds: -1, intervalNanoseconds: -1)
                }
            } catch {
                itimersUnread = "ptrace injection not possible here: \(error)"
            }
        }

        func differences(to after: TargetState) -> [String] {
            var found: [String] = []
            if fds != after.fds { found.append("fds \(fds.sorted()) became \(after.fds.sorted())") }
            for fd in fds.sorted() where fdinfo[fd] != after.fdinfo[fd] {
                found.append("fdinfo \(fd): \(fdinfo[fd] ?? []) became \(after.fdinfo[fd] ?? [])")
            }
            if timers != after.timers { found.append("/proc/PID/timers changed") }
            if fdLimit != after.fdLimit { found.append("RLIMIT_NOFILE \(fdLimit) became \(after.fdLimit)") }
            if tracerAndState != after.tracerAndState { found.append("\(tracerAndState) became \(after.tracerAndState)") }
            if let itimers, let later = after.itimers {
                // Same interval, armed as before, and only counted down (by less than the 60 s a row may take).
                for (which, (old, new)) in zip(itimers, later).enumerated()
                where old.intervalNanoseconds != new.intervalNanoseconds || new.valueNanoseconds > old.valueNanoseconds
                    || (old.valueNanoseconds > 0) != (new.valueNanoseconds > 0)
                    || old.valueNanoseconds - new.valueNanoseconds > 60_000_000_000 {
                    found.append("itimer \(which): \(old) became \(new)")
                }
            }
            return found
        }
    }

    static func pidMax() throws -> Int32 {
        let text = try String(contentsOfFile: "/proc/sys/kernel/pid_max", encoding: .utf8)
        return try XCTUnwrap(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// A pid with no /proc entry (counting down from pid_max).
    static func unusedPID() throws -> Int32 {
        var pid = try pidMax()
        while pid > 300 {
            pid -= 1
            if !FileManager.default.fileExists(atPath: "/proc/\(pid)") { return pid }
        }
        throw TestSupportError("no unused pid")
    }

    /// A zombie (TestSupport's Zombie), killed with the row's cleanups.
    static func makeZombie(_ c: Context) throws -> Int32 {
        let zombie = try Zombie()
        c.cleanups.append { zombie.kill() }
        return zombie.pid
    }

    /// A minimal CRIU core image (docs/criu-images.md): core_entry.tc (3) →
    /// task_core_entry.timers (7) → task_timers_entry.posix (4), one
    /// posix_timer_entry with all ten required fields.
    static func criuCoreImage(insec: UInt64) -> [UInt8] {
        func varint(_ value: UInt64) -> [UInt8] {
            var v = value, out: [UInt8] = []
            while v >= 0x80 { out.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
            return out + [UInt8(v)]
        }
        func field(_ number: UInt64, _ value: UInt64) -> [UInt8] { varint(number << 3) + varint(value) }
        func message(_ number: UInt64, _ body: [UInt8]) -> [UInt8] {
            varint(number << 3 | 2) + varint(UInt64(body.count)) + body
        }
        // it_id, clock_id, si_signo, it_sigev_notify, sival_ptr, overrun, isec, insec, vsec, vnsec
        let values: [UInt64] = [3, 1, 14, 0, 0, 0, 1, insec, 0, 0]
        let timer = values.enumerated().flatMap { field(UInt64($0.offset + 1), $0.element) }
        let core = message(3, message(7, message(4, timer)))
        func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        return le32(0x5456_4319) + le32(0x5505_3847) + le32(UInt32(core.count)) + core
    }
}
