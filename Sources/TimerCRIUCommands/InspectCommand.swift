import HostKernel
import ArgumentParser
import TimerCore
import TimerFormats
import TimerComparison

/// `timer-criu inspect CHECKPOINT`: what timers a checkpoint holds, as a table
/// (or its timer-criu/1 JSON), whatever kind of checkpoint it is.
public struct Inspect: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Show the timers of a checkpoint: a timer-criu/1 JSON file, a CRIU image directory, a CRIU core-PID.img or a dump --tree directory.",
        discussion: """
            Prints one row per timer (ID, clock, notify and its target, signal, sigev_value, \
            time left and period at the dump, overrun), then the warnings. With --json, \
            prints the checkpoint in the timer-criu/1 format instead (a CRIU checkpoint \
            converted; docs/criu-images.md says how) and the warnings on stderr. \
            A dump --tree directory shows every process's table, parents first; its \
            --json is the index with each checkpoint inside (docs/trees.md). \
            Exit codes: 0 ok, 2 the checkpoint was refused (the message names the file \
            and, for a bad CRIU image, the byte offset), 64 usage.
            """
    )

    @OptionGroup var input: CheckpointArgument

    @Flag(help: "Print the checkpoint as timer-criu/1 JSON instead of a table.")
    var json = false

    public init() {}

    public func run() throws {
        switch try input.load() {
        case .tree(let tree): inspect(tree)
        case .single(let loaded): try inspect(loaded)
        }
    }

    func inspect(_ loaded: Checkpoint) throws {
        let checkpoint = input.checkpoint
        if json {
            do { try loaded.checkWritable(path: nil) } catch {
                throw CommandFailure("\(checkpoint): \(error.problem)", exitCode: TimerCRIUExit.badInput)
            }
            for warning in loaded.warnings {
                StandardStream.error.write(EchoedText.warningLine(warning))
            }
            StandardStream.output.write(String(decoding: loaded.jsonBytes(), as: UTF8.self))
        } else {
            let title = "\(CheckpointSource.kind(of: checkpoint).title) \(CheckpointSource.displayName(checkpoint))"
            StandardStream.output.write(CheckpointTable.render(loaded, title: title))
        }
    }

    /// A `timer-criu-tree/1` directory: every process's table, parents first,
    /// or (--json) the index and the checkpoints as one object.
    func inspect(_ tree: CheckpointTree) {
        if json {
            for (entry, loaded) in zip(tree.index.processes, tree.checkpoints) {
                for warning in loaded.warnings {
                    StandardStream.error.write(EchoedText.warningLine(warning, process: entry.pid))
                }
            }
            StandardStream.output.write(String(decoding: tree.inspectJSONBytes(), as: UTF8.self))
        } else {
            StandardStream.output.write(CheckpointTable.render(tree: tree))
        }
    }
}

extension CheckpointSource.Kind {
    /// How the table's first line names the checkpoint.
    var title: String {
        switch self {
        case .json: return "timer-criu checkpoint"
        case .criuDirectory: return "CRIU image directory"
        case .criuCoreImage: return "CRIU core image"
        }
    }
}
