import ArgumentParser
import TimerCore
import TimerFormats

/// The CHECKPOINT argument of restore and inspect, which need one.
struct CheckpointArgument: ParsableArguments {
    static let help = ArgumentHelp("A timer-criu/1 JSON checkpoint (- for stdin), a CRIU image directory, a CRIU core-PID.img or a dump --tree directory.",
                                   valueName: "checkpoint")

    @Argument(help: help)
    var checkpoint: String

    /// The checkpoint or the tree; a refusal is exit 2 (`TimerCRIUExit.failure(for:)`).
    func load() throws(CheckpointError) -> CheckpointInput { try CheckpointSource.loadCheckpointOrTree(path: checkpoint) }
}

/// The CHECKPOINT argument of compare and memory, which sweep without one.
struct OptionalCheckpointArgument: ParsableArguments {
    @Argument(help: CheckpointArgument.help)
    var checkpoint: String?

    func load() throws(CheckpointError) -> CheckpointInput? {
        try checkpoint.map { path throws(CheckpointError) in try CheckpointSource.loadCheckpointOrTree(path: path) }
    }
}
