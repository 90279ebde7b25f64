/// A machine that restores run on, beside the kernel protocol as swift-nio's
/// `EventLoopGroup` beside `EventLoop`: it hands out fresh processes, and a
/// `MachineRestore` on it knows every process of one restore, so a CPU clock
/// naming another process of a tree is mapped to that process's new pid.
/// The model (`ModelKernel`, one machine per profile) and the host
/// (`HostMachine`: helper processes) implement it; a live process reached by
/// ptrace (`restore --into`) is a machine of one process that is not fresh.
/// `compare`, single restores and tree restores run on it the same way.
public protocol TimerMachine: AnyObject {
    associatedtype Process: MachineProcess
    /// The kernel's short name in tables ("linux-6.15", "host").
    var kernelName: String { get }
    /// Whether a fresh process gets IDs 0, 1, 2, ... from a counter and a
    /// deleted ID does not come back (docs/kernel-facts.md section 2). Only
    /// then are a dance's syscall counts known in advance, so a long dance may
    /// be projected instead of run.
    var consecutiveIDs: Bool { get }
    /// One ID space for all processes of the machine (linux-2.6,
    /// docs/kernel-facts.md section 2): a tree whose processes share an ID
    /// cannot come back whole.
    var globalIDSpace: Bool { get }
    /// A fresh process on this machine: a main thread and `threads` more, its
    /// timer ID allocator as after fork+exec.
    func spawnProcess(threads: Int) throws(MachineError) -> Process
    /// A new machine of the same kernel with none of this one's processes
    /// (each row of `compare` restores on one).
    func rebooted() -> Self
}

/// A process a `TimerMachine` handed out, which a checkpoint is restored into.
/// Where the process's own kernel is reachable from here (the model, a live
/// process by ptrace) it is the `TimerKernel` itself and `Restorer` runs here;
/// a host helper runs `Restorer` in itself on its `HostKernel`, because a
/// round trip per syscall would cost more than the syscall (a dance makes
/// millions), and sends back the report.
public protocol MachineProcess: AnyObject {
    var processID: Int32 { get }
    /// What its kernel offers for restoring IDs (`auto` resolves to one).
    var restoreInterfaces: RestoreInterfaces { get }
    /// `Restorer.restore(checkpoint, into: self, options:)`, wherever it runs.
    /// - Throws: `MachineError` when the process was lost before it reported.
    func restore(_ checkpoint: Checkpoint, options: Restorer.Options) throws(MachineError) -> RestoreReport
}

extension MachineProcess where Self: TimerKernel {
    public func restore(_ checkpoint: Checkpoint, options: Restorer.Options) throws(MachineError) -> RestoreReport {
        Restorer.restore(checkpoint, into: self, options: options)
    }
}

/// A process of a machine could not be started or died before it reported
/// (a host helper); the model never throws it.
public struct MachineError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    /// Stopped by SIGINT/SIGTERM before the process reported.
    public var interrupted: Bool

    public init(_ message: String, interrupted: Bool = false) {
        self.message = message
        self.interrupted = interrupted
    }

    public var description: String { message }

    /// The report of a restore that never reported: nothing is known to exist.
    public func report(kernel: String, strategy: RestoreStrategy) -> RestoreReport {
        var report = RestoreReport(kernel: kernel, strategy: strategy, requestedStrategy: strategy,
                                   processID: 0, threadIDs: [])
        report.error = RestoreFailure(interrupted ? .interrupted : .verificationFailed, message)
        return report
    }
}
