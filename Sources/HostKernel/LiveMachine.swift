import TimerCore

/// A running process reached by ptrace injection (`restore --into PID`) as a
/// `TimerMachine` of one process that is not fresh: `spawnProcess` hands out
/// that process, once, and restoring into it is `LiveRestore.run` (its
/// checks, one stop of every thread, all or nothing), on `LiveProcessKernel`.
/// Its own threads make the syscalls, so `threads` asks for nothing: the
/// checkpoint's threads are mapped onto the target's (`threadMap`).
public final class LiveMachine: TimerMachine {
    public let pid: Int32
    /// Checkpoint tid -> target tid, overriding the positional mapping.
    public let threadMap: [Int32: Int32]
    private var handedOut = false

    public init(pid: Int32, threadMap: [Int32: Int32] = [:]) {
        self.pid = pid
        self.threadMap = threadMap
    }

    public var kernelName: String { "live process \(pid)" }
    /// Its counter is wherever the process left it: a dance is never projected.
    public var consecutiveIDs: Bool { false }
    public var globalIDSpace: Bool { false }

    public func spawnProcess(threads: Int) throws(MachineError) -> LiveTargetProcess {
        guard !handedOut else { throw MachineError("restore --into restores one process (\(pid))") }
        handedOut = true
        return LiveTargetProcess(pid: pid, threadMap: threadMap)
    }

    public func rebooted() -> LiveMachine { LiveMachine(pid: pid, threadMap: threadMap) }
}

/// The one process of a `LiveMachine`.
public final class LiveTargetProcess: MachineProcess {
    public let processID: Int32
    let threadMap: [Int32: Int32]
    public let restoreInterfaces: RestoreInterfaces = HostMachine.offeredRestoreInterfaces()

    init(pid: Int32, threadMap: [Int32: Int32]) {
        processID = pid
        self.threadMap = threadMap
    }

    /// - Throws: `MachineError` with `LiveRestore`'s refusal when nothing was done.
    public func restore(_ checkpoint: Checkpoint, options: Restorer.Options) throws(MachineError) -> RestoreReport {
        let request = LiveRestore.Request(checkpoint: checkpoint, pid: processID, strategy: options.strategy,
                                          deadThreadNotify: options.deadThreadNotify, threadMap: threadMap,
                                          control: options.control)
        do { return try LiveRestore.run(request) } catch { throw MachineError(error.description) }
    }
}
