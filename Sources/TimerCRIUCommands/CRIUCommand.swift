import ArgumentParser
import HostKernel
import TimerCore
import TimerFormats
import TimerComparison

/// `timer-criu criu ...`: commands that write CRIU image directories
/// (docs/criu-images.md, "Writing CRIU checkpoints").
public struct CRIUCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "criu",
        abstract: "Write CRIU image directories: repair the timers CRIU cannot restore, or hand them to timer-criu.",
        subcommands: [CRIUFix.self, CRIUStrip.self, CRIUActionScriptCommand.self]
    )

    public init() {}
}

extension CRIUDeadThreadNotify: ExpressibleByArgument {}

/// The checks and the write shared by fix and strip: OUT refused before
/// anything is read, the edit computed whole, then OUT written whole.
struct CRIUCopyOptions: ParsableArguments {
    @Argument(help: "A CRIU image directory (criu dump -D DIR).")
    var directory: String

    @Option(name: [.short, .customLong("output")],
            help: "The directory to write (must not exist, or be empty; written whole or not at all).")
    var output: String

    @Flag(help: "Print what changed as one JSON object.")
    var json = false

    func run(_ edit: (String) throws(CheckpointError) -> CRIUImageEdit) throws -> CRIUImageEdit {
        if let problem = CRIUImageDirectoryWriter.refusal(of: output) {
            throw CommandFailure("cannot write \(output): \(problem)", exitCode: TimerCRIUExit.cannotWriteOutput)
        }
        guard CheckpointSource.kind(of: directory) == .criuDirectory else {
            throw CommandFailure("\(directory): not a directory (criu fix and strip take a CRIU image directory)", exitCode: TimerCRIUExit.badInput)
        }
        let entries = try CRIUImageDirectoryListing.sourceEntries(directory)
        let result = try edit(directory)
        try CRIUImageDirectoryWriter.write(result, entries: entries, to: output)
        return result
    }

    /// `"output"` and `"rewritten": ["core-1.img", ...]`, the members both commands print first.
    func commonJSON(_ result: CRIUImageEdit) -> [(key: String, value: JSONOutput)] {
        [("output", .string(output)), ("rewritten", .strings(result.rewrittenFiles.keys.sorted()))]
    }
}

/// `timer-criu criu fix DIR -o OUT`: a copy of DIR in which every timer CRIU
/// would fail to restore is made restorable.
public struct CRIUFix: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fix",
        abstract: "Copy a CRIU image directory, making restorable the timers CRIU cannot restore.",
        discussion: """
            A SIGEV_THREAD_ID timer aimed at a thread that had exited (criu restore fails on it: \
            "Can't create posix timer", -EINVAL) becomes SIGEV_NONE (--dead-thread-notify none, \
            the default) or a signal to its process (process). Every other byte is copied as it \
            is: the other images unchanged, and in a core image only the changed fields and the \
            lengths around them differ. A timer on a CPU clock of a task outside the checkpoint \
            cannot be repaired and is refused. Prints one line per timer changed. \
            Exit codes: 0 ok, 2 the images were refused (the message names the file and byte \
            offset), 64 usage, 73 OUT exists and is not empty, or cannot be written (nothing is \
            left behind).
            """
    )

    @OptionGroup var options: CRIUCopyOptions

    @Option(name: .customLong("dead-thread-notify"),
            help: "What a timer aimed at an exited thread notifies instead: none (SIGEV_NONE) or process (SIGEV_SIGNAL to the process).")
    var deadThreadNotify: CRIUDeadThreadNotify = .none

    public init() {}

    public func run() throws {
        let policy = deadThreadNotify
        let result = try options.run { directory throws(CheckpointError) in
            try CRIUImageEditor.fix(directory: directory, deadThreadNotify: policy)
        }
        if options.json {
            let changed: [JSONOutput] = result.changes.map { change in
                .object([("pid", .integer(change.pid)), ("file", .string(change.file)), ("id", .integer(change.timerID)),
                         ("dead_thread", .integer(change.deadThread)), ("notify", .string(change.notify.rawValue))])
            }
            StandardStream.output.write(JSONOutput.object(options.commonJSON(result) + [("changed", .array(changed, .lines))],
                                                          .lines).documentText)
            return
        }
        var text = ""
        for change in result.changes {
            let now = change.notify == .none ? "SIGEV_NONE" : "SIGEV_SIGNAL to process \(change.pid)"
            text += "\(change.file): timer \(change.timerID): notify thread \(change.deadThread) had exited: SIGEV_THREAD_ID -> \(now)\n"
        }
        StandardStream.output.write(text)
        StandardStream.error.write(result.changes.isEmpty
            ? "timer-criu: no timer needed a change; \(options.output) is an exact copy\n"
            : "timer-criu: changed \(result.changes.count) timer(s) in \(result.rewrittenFiles.count) core image(s); wrote \(options.output)\n")
    }
}

/// `timer-criu criu strip DIR -o OUT`: a copy of DIR without POSIX timers,
/// which any CRIU restores without its create/delete dance, and the timers
/// in OUT/timer-criu.json for `criu action-script` to put back.
public struct CRIUStrip: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "strip",
        abstract: "Copy a CRIU image directory without its POSIX timers, which go to OUT/timer-criu.json.",
        discussion: """
            The core images of the copy hold no posix_timer_entry (every other byte is as in \
            DIR), so any CRIU restores the processes without recreating timers (no create/delete \
            dance up to the highest ID). OUT/timer-criu.json holds the timers with their values: \
            a timer-criu checkpoint for one process, the inspect --json form of a tree for \
            several. `criu restore -D OUT --action-script SCRIPT`, SCRIPT running \
            `timer-criu criu action-script`, puts them back after the restore \
            (docs/criu-images.md). Prints one line per process whose timers were taken out. \
            Exit codes as for criu fix.
            """
    )

    @OptionGroup var options: CRIUCopyOptions

    public init() {}

    public func run() throws {
        let result = try options.run { directory throws(CheckpointError) in try CRIUImageEditor.strip(directory: directory) }
        let timersFile = CRIUCheckpointReaderPath.join(options.output, CRIUImageEditor.timersFileName)
        let total = result.checkpoints.reduce(0) { $0 + $1.timers.count }
        if options.json {
            let processes: [JSONOutput] = result.checkpoints.map {
                .object([("pid", .integer($0.pid)), ("timers", .integer($0.timers.count))])
            }
            StandardStream.output.write(JSONOutput.object(options.commonJSON(result) + [
                ("timers_file", .string(timersFile)), ("timers", .integer(total)), ("processes", .array(processes, .lines)),
            ], .lines).documentText)
            return
        }
        var text = ""
        for checkpoint in result.checkpoints where !checkpoint.timers.isEmpty {
            let highest = checkpoint.timers.map(\.id).max() ?? 0
            text += "core-\(checkpoint.pid).img: \(checkpoint.timers.count) timer(s) taken out (highest ID \(highest))\n"
        }
        StandardStream.output.write(text)
        StandardStream.error.write(
            "timer-criu: stripped \(total) timer(s) of \(result.checkpoints.count) process(es); wrote \(options.output), timers in \(timersFile)\n")
    }
}

enum CRIUCheckpointReaderPath {
    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
