import ArgumentParser
import HostKernel
import TimerCore
import TimerFormats
import TimerComparison


extension TimerCRIUExit {
    /// The `-o` file could not be written (sysexits' EX_CANTCREAT).
    public static let cannotWriteOutput: Int32 = 73
}

/// `timer-criu dump <pid>`: a process's timers from /proc/PID/timers as a
/// `timer-criu/1` checkpoint (docs/format.md).
public struct Dump: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Print a process's POSIX timers (from /proc/PID/timers) as a timer-criu/1 JSON checkpoint.",
        usage: """
            timer-criu dump <pid> [--output <file>] [--tree] [--values]
            timer-criu dump --from-proc-file <file> [--pid <pid>] [--output <file>]
            """,
        discussion: """
            Timers are sorted by ID. Timers that cannot be restored as they stand are \
            listed in "warnings" and on stderr. Exit codes: 0 ok, 2 the --from-proc-file \
            file was refused, 3 no such process, it exited while being read, the pid is \
            a thread or a kernel thread, or its timers kept changing, 4 permission denied, 5 the kernel has no \
            /proc/PID/timers or prints it in an unknown form, 64 usage (e.g. a pid that \
            is not a number), 73 the -o file cannot be written, 141 stdout was closed \
            by its reader. With --values: \
            4 also when ptrace is refused (a plain dump still works), 1 when an injected \
            syscall fails.
            """
    )

    // Strings, not an Int32, so that "abc" gets our one-line error rather than
    // ArgumentParser's multi-line usage text; every unrecognised word, so that
    // "-5" reaches that error too instead of being taken for an option.
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("The process id whose timers to dump.", valueName: "pid"))
    var unrecognized: [String] = []
    /// The words before a `--` that look like options but are not negative numbers.
    var unknownOptions: [String] {
        unrecognized.prefix { $0 != "--" }.filter { $0.hasPrefix("-") && Int64($0) == nil }
    }
    var pidWords: [String] {
        guard let end = unrecognized.firstIndex(of: "--") else { return unrecognized }
        return Array(unrecognized[..<end] + unrecognized[(end + 1)...])
    }
    var pid: String? { pidWords.first }

    @Option(name: .customLong("from-proc-file"), help: ArgumentHelp(
        "Convert a saved copy of /proc/PID/timers (as pasted into bug reports; - for stdin) instead of reading a live process.",
        valueName: "file"))
    var fromProcFile: String?

    @Option(name: .customLong("pid"), parsing: .unconditional, help: ArgumentHelp(
        "With --from-proc-file: whose timers they are (default: the pid most of its timers notify).",
        valueName: "pid"))
    var savedPID: Int32?

    @Option(name: [.short, .customLong("output")],
            help: ArgumentHelp("Write the checkpoint to <file> instead of stdout (- is stdout): a regular file is replaced atomically, a device or FIFO written in place; anything else is refused.", valueName: "file"))
    var output: String?

    @Flag(help: "Dump the process and all its descendants into the directory given by -o: one checkpoint per process plus index.json (docs/trees.md).")
    var tree = false

    @Flag(help: ArgumentHelp(
        "Also read each timer's time left, interval and overrun count, which /proc does not show, "
            + "by injecting timer_gettime/timer_getoverrun into the process with ptrace (docs/dump-values.md). "
            + "The process is left running and untraced on every path."))
    var values = false

    @OptionGroup(visibility: .private) var testHooks: DumpTestHooks

    public init() {}

    public func validate() throws {
        if let option = unknownOptions.first {
            throw ValidationError("Unknown option '\(option)'")
        }
        if pidWords.count > 1 { throw ValidationError("one pid only (got \(pidWords.joined(separator: " ")))") }
        if fromProcFile != nil && pid != nil { throw ValidationError("give either a pid or --from-proc-file, not both") }
        if fromProcFile == nil && pid == nil { throw ValidationError("missing the pid to dump (or --from-proc-file FILE)") }
        if fromProcFile != nil && (tree || values) {
            throw ValidationError("--from-proc-file converts a saved file: --tree and --values need a live process")
        }
        if savedPID != nil && fromProcFile == nil { throw ValidationError("--pid goes with --from-proc-file") }
        if let savedPID, savedPID < 1 { throw ValidationError("--pid \(savedPID) is not a process id (expected 1 to 2147483647)") }
        if tree && output == nil { throw ValidationError("--tree needs -o DIR (the tree is a directory)") }
        if output == "" { throw ValidationError("-o needs a file name (or - for stdout), not an empty string") }
        if tree && output == OutputFile.standardOutputPath {
            throw ValidationError("--tree writes a directory: -o - (stdout) cannot hold one")
        }
    }

    public func run() throws {
        if let fromProcFile {
            return try write(Checkpoint.fromProcFile(path: fromProcFile, pid: savedPID))
        }
        guard let pidText = pid, let pid = Dump.parsePID(pidText) else {
            throw CommandFailure("pid \"\(self.pid ?? "")\" is not a process id (expected an integer from 1 to 2147483647)",
                                exitCode: TimerCRIUExit.usage)
        }
        if tree, let output { return try dumpTree(root: pid, to: output) }
        try write(readCheckpoint(pid: pid, failurePrefix: "")!)
        if !values { StandardStream.error.write(Dump.itimersNotReadNote) }
    }

    /// Said once by a dump without --values: it is not an error, the
    /// checkpoint just has no `itimers` (docs/format.md).
    static let itimersNotReadNote = "timer-criu: note: interval timers (setitimer, alarm) not read: only the process "
        + "itself can ask for them (getitimer), so they need --values\n"

    /// Warnings to stderr, then the checkpoint to -o (atomically) or stdout
    /// (streamed in pieces: 90,000 timers are 12 MB of JSON).
    func write(_ checkpoint: Checkpoint) throws {
        // What is written must be readable back (the same size limit).
        try checkpoint.checkWritable(path: output)
        for warning in checkpoint.warnings {
            StandardStream.error.write(EchoedText.warningLine(warning))
        }
        if let output, output != OutputFile.standardOutputPath {
            try OutputFile.write(checkpoint.jsonBytes(), to: output)
        } else {
            checkpoint.writeJSON { StandardStream.output.write($0) }
        }
    }

    /// `--tree`: the root and its descendants (parents first), one checkpoint
    /// each, written into DIR atomically (docs/trees.md). Any process that
    /// cannot be read fails the whole dump; nothing is written then. Only a
    /// zombie child is left out (with a warning): it has no timers
    /// (exit_itimers ran) and no children of its own.
    func dumpTree(root: Int32, to directory: String) throws {
        if let problem = CheckpointTreeWriter.refusal(of: directory) {
            throw CommandFailure("cannot write \(directory): \(problem)", exitCode: TimerCRIUExit.cannotWriteOutput)
        }
        var entries: [CheckpointTreeEntry]
        do { entries = try ProcessTree.descendants(of: root, procRoot: testHooks.procRoot) } catch {
            throw CommandFailure(error.description, exitCode: Dump.exitCode(for: error))
        }
        var checkpoints: [Checkpoint] = []
        var zombies: Set<Int32> = []
        for entry in entries {
            // A zombie child without children is left out; anything else that fails fails the whole dump.
            let leaf = entry.pid != root && !entries.contains(where: { $0.ppid == entry.pid })
            guard let checkpoint = try readCheckpoint(
                pid: entry.pid, failurePrefix: entry.pid == root ? "" : "process \(entry.pid) of the tree of \(root): ",
                zombieIsNil: leaf)
            else {
                StandardStream.error.write(
                    "timer-criu: warning: process \(entry.pid) is a zombie (exited, not reaped): no timers, left out of the tree\n")
                zombies.insert(entry.pid)
                continue
            }
            checkpoints.append(checkpoint)
        }
        // A timerfd inherited across fork is one timer in several processes.
        let shared = ProcFS.timerFDsShared(across: checkpoints.map { ($0.pid, ($0.timerFDs ?? []).map(\.fd)) })
        for index in checkpoints.indices {
            checkpoints[index].warnings += shared[checkpoints[index].pid] ?? []
            for warning in checkpoints[index].warnings {
                StandardStream.error.write(EchoedText.warningLine(warning, process: checkpoints[index].pid))
            }
        }
        entries.removeAll { zombies.contains($0.pid) }
        try CheckpointTreeWriter.write(index: CheckpointTreeIndex(root: root, processes: entries),
                                       checkpoints: checkpoints, to: directory)
        let timers = checkpoints.reduce(0) { $0 + $1.timers.count }
        StandardStream.error.write(
            "timer-criu: dumped \(entries.count) process(es), \(timers) timer(s) into \(directory)\n")
        if !values { StandardStream.error.write(Dump.itimersNotReadNote) }
    }

    /// The checkpoint of `pid` from /proc, with --values its timers' values
    /// (listing and values read again if timers are deleted meanwhile); on
    /// failure throws the one-line error (after `failurePrefix`) and its exit code;
    /// nil for a zombie if `zombieIsNil`.
    func readCheckpoint(pid: Int32, failurePrefix: String, zombieIsNil: Bool = false) throws(CommandFailure) -> Checkpoint? {
        let fromProc = { () throws(ProcReadError) -> Checkpoint in
            try ProcFS.checkpoint(pid: pid, procRoot: testHooks.procRoot, pauseNanoseconds: testHooks.pauseMilliseconds * 1_000_000)
        }
        do throws(DumpWithValuesError) {
            if !values {
                do { return try fromProc() } catch { throw .proc(error) }
            }
            return try TimerValueReader.checkpointWithValues(pid: pid, fromProc)
        } catch {
            switch error {
            case .proc(.exited) where zombieIsNil:
                return nil
            case let .proc(error):
                throw CommandFailure(failurePrefix + error.description, exitCode: Dump.exitCode(for: error))
            case let .values(error):
                throw CommandFailure(failurePrefix + error.description + Dump.hint(for: error),
                                    exitCode: Dump.exitCode(forPtrace: error))
            }
        }
    }

    /// A decimal pid 1...INT_MAX, nothing else (no sign, no spaces).
    static func parsePID(_ text: String) -> Int32? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let pid = Int32(text), pid > 0 else { return nil }
        return pid
    }

    static func exitCode(forPtrace error: PtraceError) -> Int32 {
        switch error {
        case .permissionDenied: return TimerCRIUExit.permissionDenied
        case .noSuchProcess, .processExited, .timersKeptChanging: return TimerCRIUExit.noSuchProcess
        case .syscallFailed, .injectionFailed: return TimerCRIUExit.failed
        case .unsupportedArchitecture: return TimerCRIUExit.kernelUnsupported
        }
    }

    static func hint(for error: PtraceError) -> String {
        if case .permissionDenied = error { return " (a dump without --values still works)" }
        return ""
    }

    static func exitCode(for error: ProcReadError) -> Int32 {
        switch error {
        case .noSuchProcess, .exited, .exitedWhileRead, .notAProcess, .kernelThread: return TimerCRIUExit.noSuchProcess
        case .permissionDenied: return TimerCRIUExit.permissionDenied
        case .noTimersFile, .malformed: return TimerCRIUExit.kernelUnsupported
        case .changedWhileRead, .io: return TimerCRIUExit.noSuchProcess
        }
    }
}
