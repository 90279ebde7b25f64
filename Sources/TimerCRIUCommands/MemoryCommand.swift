import ArgumentParser
import HostKernel
import ModelKernel
import TimerCore
import TimerFormats
import TimerComparison

/// `timer-criu memory CHECKPOINT|TREE`: the kernel memory of the checkpoint's
/// timers under each ID-index design (docs/memory.md).
public struct Memory: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Show what a checkpoint's timer IDs cost the kernel under each ID-index design.",
        discussion: """
            For the checkpoint's IDs: global-hash (linux-3.10, linux-6.15, rfd-cursor: one struct \
            k_itimer per timer, plus a sigqueue before 6.13; the hash table is the machine's), \
            per-process-xarray (rfd-dense: the same plus 576-byte xarray nodes, counted exactly) \
            and global-idr (linux-2.6: 544-byte IDR layers). Object sizes are read from \
            /sys/kernel/slab where readable (documented 6.18 figures otherwise). The lookup \
            table gives the hash chains and tree heights a timer lookup walks. \
            --sweep instead tabulates bytes per timer against ID stride (N timers: the \
            checkpoint's count, or --timers) and the worst case one user can cause at \
            RLIMIT_SIGPENDING timers; --svg draws it. \
            Exit codes: 0 printed, 2 bad checkpoint, 64 usage, 73 cannot write the SVG file.
            """
    )

    @OptionGroup var input: OptionalCheckpointArgument
    var checkpoint: String? { input.checkpoint }

    @Flag(help: "Print JSON instead of the tables.")
    var json = false

    @Flag(help: "Bytes per timer against ID stride 1 ... 2^31/N, and the worst case per user.")
    var sweep = false

    @Option(help: ArgumentHelp("With --sweep: draw the sweep as an SVG picture into <file>.", valueName: "file"))
    var svg: String?

    @Option(help: ArgumentHelp("With --sweep and no CHECKPOINT: the number of timers (default 10000).", valueName: "n"))
    var timers: Int?

    public init() {}

    public func validate() throws {
        if svg == "" { throw ValidationError("--svg needs a file name (or - for stdout), not an empty string") }
        if svg != nil && !sweep { throw ValidationError("--svg draws the sweep: add --sweep") }
        if timers != nil && !sweep { throw ValidationError("--timers sizes the sweep: add --sweep") }
        if timers != nil && checkpoint != nil { throw ValidationError("--timers or CHECKPOINT, not both") }
        if let timers, timers < 1 || timers > Int(Int32.max) {
            throw ValidationError("--timers must be 1 ... 2147483647")
        }
        if !sweep && checkpoint == nil { throw ValidationError("missing CHECKPOINT (or --sweep)") }
    }

    public func run() throws {
        let sizes = SlabInfo.timerObjectSizes()
        let kernels = Self.kernels()
        var processes: [[Int32]] = []
        switch try input.load() {
        case .tree(let tree)?: processes = tree.checkpoints.map { $0.timers.map(\.id) }
        case .single(let loaded)?: processes = [loaded.timers.map(\.id)]
        case nil: break
        }
        if sweep {
            let count = timers ?? (checkpoint == nil ? 10_000 : processes.reduce(0) { $0 + $1.count })
            guard count >= 1 else {
                throw CommandFailure("\(checkpoint ?? ""): no timers to sweep", exitCode: TimerCRIUExit.badInput)
            }
            let result = MemorySweep.run(timers: count, kernels: kernels, sizes: sizes,
                                         userLimit: HostKernel.sigpendingLimit ?? Self.documentedSigpendingLimit)
            if let svg { try OutputFile.write(Array(result.svg().utf8), to: svg) }
            // `--svg -`: the picture is the output; the table would spoil it.
            if svg == OutputFile.standardOutputPath { return }
            StandardStream.output.write(json ? result.json() : result.text())
            return
        }
        let memory = KernelMemory.estimate(processes: processes, kernels: kernels, sizes: sizes)
        StandardStream.output.write(json ? memory.json() : memory.text(name: checkpoint ?? ""))
    }

    /// root's RLIMIT_SIGPENDING on the project's host (docs/kernel-facts.md section 2),
    /// for when the limit is unlimited.
    static let documentedSigpendingLimit = 96_365

    /// Every model profile with the memory it models, this host's CPUs sizing
    /// the 6.15+ hash table.
    static func kernels() -> [KernelMemory.Kernel] {
        let cpus = SlabInfo.possibleCPUs() ?? 2
        return KernelProfile.allCases.map {
            KernelMemory.Kernel(name: $0.rawValue, model: $0.memoryModel(possibleCPUs: cpus))
        }
    }

    /// Total kernel bytes of these processes' timers on each model profile
    /// (the KMEM column of `compare`).
    static func bytesByKernel(_ processes: [[Int32]]) -> [String: Int] {
        let sizes = SlabInfo.timerObjectSizes()
        return Dictionary(uniqueKeysWithValues: kernels().map {
            ($0.name, KernelMemory.totalBytes(processes: processes, model: $0.model, sizes: sizes))
        })
    }
}
