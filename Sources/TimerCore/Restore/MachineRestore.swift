/// One restore on one machine: a fresh process for each checkpoint, all
/// spawned first (parents before children, as a tree lists them), so that a
/// CPU clock naming another process of the restore maps to that process's new
/// pid (`Restorer.Options.otherPIDs`). A single restore is a restore of one.
/// `restore`, `compare` (single and tree rows) and tree restores all go
/// through here, on the model and on the host alike.
public struct MachineRestore<M: TimerMachine> {
    public let machine: M
    public let checkpoints: [Checkpoint]
    /// One per checkpoint, in order: the process, or why it could not be started.
    public let processes: [Result<M.Process, MachineError>]
    /// Dumped pid -> new pid, for every process that was started.
    public let restoredPIDs: [Int32: Int32]

    public init(_ checkpoints: [Checkpoint], on machine: M) {
        self.machine = machine
        self.checkpoints = checkpoints
        var processes: [Result<M.Process, MachineError>] = []
        var pids: [Int32: Int32] = [:]
        for checkpoint in checkpoints {
            let spawned = Result { () throws(MachineError) in
                try machine.spawnProcess(threads: RestorePlan.requiredExtraThreads(for: checkpoint))
            }
            if case let .success(process) = spawned { pids[checkpoint.pid] = process.processID }
            processes.append(spawned)
        }
        self.processes = processes
        restoredPIDs = pids
    }

    /// The new pid of checkpoint `index`'s process (0: it was not started).
    public func restoredPID(_ index: Int) -> Int32 { (try? processes[index].get())?.processID ?? 0 }

    /// Restores checkpoint `index` (or `replacement`, e.g. a compare row's
    /// gap-shrunk copy) into its process, the other processes' new pids
    /// added to `options.otherPIDs` (over any given for the same dumped pid).
    public func restore(_ index: Int, replacement: Checkpoint? = nil,
                        options: Restorer.Options) throws(MachineError) -> RestoreReport {
        let process = try processes[index].get()
        var perProcess = options
        let own = checkpoints[index].pid
        perProcess.otherPIDs = restoredPIDs.filter { $0.key != own }.merging(options.otherPIDs) { mapped, _ in mapped }
        return try process.restore(replacement ?? checkpoints[index], options: perProcess)
    }

    /// `restore`, with a lost process turned into a failed report.
    public func report(_ index: Int, options: Restorer.Options) -> RestoreReport {
        do { return try restore(index, options: options) } catch {
            return error.report(kernel: machine.kernelName, strategy: options.strategy)
        }
    }

    /// What the process of checkpoint `index` offers (nothing when it was not started).
    public func restoreInterfaces(_ index: Int) -> RestoreInterfaces {
        (try? processes[index].get())?.restoreInterfaces ?? []
    }
}
