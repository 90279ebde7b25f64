import HostKernel
import ArgumentParser
import ModelKernel
import TimerCore
import TimerFormats
import TimerComparison

/// `timer-criu compare CHECKPOINT`: every strategy on every model kernel, with
/// syscall counts, model time and projected real cost (docs/compare.md).
public struct Compare: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Restore a checkpoint on every model kernel by every strategy and compare their cost.",
        discussion: """
            Prints one row per kernel and strategy: the outcome (verified, or why it fails \
            in kernel terms), the syscalls made, the model's wall time, and the projected \
            time on a real kernel (syscalls x per-syscall costs; built-in defaults measured \
            on Linux 6.18, or a file from `timer-criu calibrate`). A dance on a counter \
            kernel needing more creates than --run-limit is projected, not run: its counts \
            are exact. A dump --tree directory is restored whole on one machine per row \
            (docs/trees.md). --sweep draws restore cost against timer ID and timer count instead. \
            Exit codes: 0 table printed (failing rows are results), 2 bad checkpoint or \
            costs file, 64 usage, 73 cannot write the SVG file.
            """
    )

    @OptionGroup var input: OptionalCheckpointArgument
    var checkpoint: String? { input.checkpoint }

    @Flag(help: "Print the rows as one JSON object instead of the table.")
    var json = false

    @Option(help: ArgumentHelp("Also draw the result as an SVG picture into <file> (- for stdout, then instead of the table).", valueName: "file"))
    var svg: String?

    @Option(help: ArgumentHelp("Per-syscall costs from `timer-criu calibrate` (- for stdin; default: built-in 6.18 figures).",
                               valueName: "file"))
    var costs: String?

    @Option(name: .customLong("strategy"),
            help: "A strategy to compare (repeatable; default: dance, cursor and create-at-id).")
    var strategies: [RestoreStrategy] = []

    // .unconditional: "-1" is the value (refused by validate), not an option.
    @Option(name: .customLong("run-limit"), parsing: .unconditional,
            help: ArgumentHelp("Project instead of run a dance needing more than <n> creates.", valueName: "n"))
    var runLimit: Int64 = CompareMatrix.defaultRunLimit

    @Flag(name: .customLong("run-all"), help: "Run every row on the model, however long (use a release build).")
    var runAll = false

    @Flag(help: "Instead of a checkpoint: restore cost of one timer at ID 10 ... INT_MAX and of n dense timers.")
    var sweep = false

    public init() {}

    public func validate() throws {
        if svg == "" { throw ValidationError("--svg needs a file name (or - for stdout), not an empty string") }
        if sweep && checkpoint != nil { throw ValidationError("--sweep takes no CHECKPOINT") }
        if !sweep && checkpoint == nil { throw ValidationError("missing CHECKPOINT (or --sweep)") }
        if runLimit < 1 { throw ValidationError("--run-limit must be at least 1") }
    }

    public func run() throws {
        var costFigures = SyscallCosts.measured618
        if let costs { costFigures = try SyscallCosts.load(path: costs) }
        let limit: Int64? = runAll ? nil : runLimit
        // A strategy given twice is one row (per kernel), in the order first given.
        var seen = Set<RestoreStrategy>()
        let chosen = strategies.isEmpty ? CompareMatrix.defaultStrategies : strategies.filter { seen.insert($0).inserted }
        if sweep {
            let result = Sweep.run(strategies: chosen.filter { $0 != .auto }, machine: ModelKernel.sweepMachine(for:),
                                   costs: costFigures, runLimit: limit)
            if let svg { try OutputFile.write(Array(result.svg().utf8), to: svg) }
            if svg == OutputFile.standardOutputPath { return }
            StandardStream.output.write(json ? result.json() : result.text())
            return
        }
        guard let checkpoint, let loaded = try input.load() else { return }
        switch loaded {
        case .tree(let tree):
            var matrix = CompareMatrix.run(tree: tree, machines: ModelKernel.everyProfile(), strategies: chosen,
                                           costs: costFigures, runLimit: limit)
            matrix.kernelMemoryBytes = Memory.bytesByKernel(tree.checkpoints.map { $0.timers.map(\.id) })
            try emit(matrix, name: checkpoint, title: "timer-criu compare: tree \(checkpoint)")
        case .single(let loaded):
            var matrix = CompareMatrix.run(loaded, machines: ModelKernel.everyProfile(), strategies: chosen,
                                           costs: costFigures, runLimit: limit)
            matrix.kernelMemoryBytes = Memory.bytesByKernel([loaded.timers.map(\.id)])
            try emit(matrix, name: CheckpointSource.displayName(checkpoint),
                     title: "timer-criu compare: \(CheckpointSource.displayName(checkpoint))")
        }
    }

    /// The SVG (if asked for) first, so a file that cannot be written fails before any table.
    func emit(_ matrix: CompareMatrix, name: String, title: String) throws {
        if let svg { try OutputFile.write(Array(matrix.svg(title: title).utf8), to: svg) }
        // `--svg -`: the picture is the output; the table would spoil it.
        if svg == OutputFile.standardOutputPath { return }
        StandardStream.output.write(json ? matrix.json(checkpointName: name)
                                                   : matrix.text(checkpointName: name))
    }
}
