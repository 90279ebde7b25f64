#if canImport(Glibc)
import Glibc
#endif
import CTimerSyscalls
import TimerCore

/// The parent side of a host restore: this host as a `TimerMachine`, whose
/// fresh processes are restore helpers (`RestoreHelper`, the same executable
/// started as `_restore-helper`). Each helper dies with the tool
/// (PR_SET_PDEATHSIG) and is killed on every path except a verified restore
/// with `hold`. The checkpoint goes to a helper and its report comes back as
/// data (RestoreHelperMessages.swift); the command prints it.
public final class HostMachine: TimerMachine {
    /// Keep each verified helper, and its timers, until it is killed (`--hold`).
    public let hold: Bool
    let executable: String
    /// What this kernel offers, probed once here (the helpers run on the same kernel).
    public let restoreInterfaces: RestoreInterfaces
    /// The helpers that verified and now hold their timers, in order.
    public private(set) var heldPIDs: [Int32] = []
    /// A stop signal came just as a helper reported success: that helper was
    /// killed and the command ends in 130 all the same.
    public private(set) var stoppedAfterReport = false

    public init(hold: Bool = false, executable: String = ChildProcess.currentExecutable) {
        self.hold = hold
        self.executable = executable
        restoreInterfaces = Self.offeredRestoreInterfaces()
        // SIGINT and SIGTERM are passed on to the helper that is restoring.
        StopSignals.catchInterruptAndTerminate()
    }

    /// prctl GET answers EINVAL before 6.15 (docs/kernel-facts.md section 3).
    static func offeredRestoreInterfaces() -> RestoreInterfaces {
        tc_prctl(PR_TIMER_CREATE_RESTORE_IDS, UInt(TC_PR_TIMER_CREATE_RESTORE_IDS_GET), 0, 0, 0) >= 0 ? .createAtID : []
    }

    public var kernelName: String { "host" }
    /// Since 3.10 a per-process counter (docs/kernel-facts.md section 2).
    public var consecutiveIDs: Bool { true }
    public var globalIDSpace: Bool { false }

    public func spawnProcess(threads: Int) throws(MachineError) -> RestoreHelperProcess {
        let child: ChildProcess
        do {
            child = try ChildProcess([executable, RestoreHelper.command, "--parent", String(getpid()),
                                      "--threads", String(threads)])
        } catch { throw MachineError("\(error)") }
        return RestoreHelperProcess(child, machine: self)
    }

    public func rebooted() -> HostMachine { HostMachine(hold: hold, executable: executable) }

    /// A tree is held whole or not at all: when not every process verified,
    /// the helpers already holding (started by this machine) are killed.
    /// Returns the note saying which.
    public func keepHeld(allVerified: Bool) -> String? {
        guard !heldPIDs.isEmpty else { return nil }
        let pids = heldPIDs.map(String.init).joined(separator: " ")
        if allVerified {
            return "holding: helper pids \(pids) keep the tree's timers until killed (kill \(pids))"
        }
        for pid in heldPIDs { kill(pid, SIGKILL) }
        defer { heldPIDs = [] }
        return "not every process verified: killed the \(heldPIDs.count) helper(s) already holding (pids \(pids))"
    }

    func noteHeld(_ pid: Int32) { heldPIDs.append(pid) }
    func noteStoppedAfterReport() { stoppedAfterReport = true }
}

/// One restore helper: a fresh process on the host, spawned and waiting
/// for its checkpoint.
public final class RestoreHelperProcess: MachineProcess {
    let child: ChildProcess
    unowned let machine: HostMachine
    /// Set once the helper confirmed it holds its timers.
    public private(set) var heldPID: Int32?

    init(_ child: ChildProcess, machine: HostMachine) {
        self.child = child
        self.machine = machine
    }

    public var processID: Int32 { child.pid }
    public var restoreInterfaces: RestoreInterfaces { machine.restoreInterfaces }

    /// Sends the checkpoint, waits for the report (passing a stop signal on
    /// to the helper), then holds or kills the helper. `options.control` is
    /// the helper's own: it draws its progress and watches for stop signals.
    public func restore(_ checkpoint: Checkpoint, options: Restorer.Options) throws(MachineError) -> RestoreReport {
        let pid = child.pid
        let request = RestoreHelperRequest(checkpoint: checkpoint, strategy: options.strategy,
                                           deadThreadNotify: options.deadThreadNotify, otherPIDs: options.otherPIDs)
        guard child.send(RestoreHelperMessage.restore(request).frame()) else {
            throw MachineError("restore helper (pid \(pid)) exited before reading the checkpoint: \(child.wait())")
        }
        // SIGINT and SIGTERM alike: a SIGINT from the terminal reaches the
        // helper too; a signal sent to the tool alone (a script, a test,
        // systemd's SIGTERM) does not, so pass it on to exactly the helper's
        // pid. Either way the helper stops its loop and reports; after 3 s
        // without a report it is killed.
        var interruptedAt: Int64? = nil
        let reply = readReply {
            let signo = StopSignals.received
            if signo == SIGINT || signo == SIGTERM {
                let now = HostKernel.clockNow(.monotonic)
                if let t = interruptedAt { return now - t > 3_000_000_000 }
                interruptedAt = now
                _ = kill(pid, signo)
            }
            return false
        }
        guard case let .report(report)? = reply else {
            child.kill()
            if case let .refused(why)? = reply { throw MachineError(why) }
            let signo = StopSignals.received
            if signo != 0 {
                throw MachineError("interrupted by \(signo == SIGTERM ? "SIGTERM" : "SIGINT"): "
                    + "restore helper (pid \(pid)) killed before it reported", interrupted: true)
            }
            throw MachineError("restore helper (pid \(pid)) died: \(child.wait())")
        }
        // Stopped by the user but the helper finished first: still a stop
        // (exit 130), and a --hold helper is not kept.
        if report.ok, StopSignals.received != 0 {
            child.kill()
            machine.noteStoppedAfterReport()
            RestoreHelper.writeAll(2, Array("timer-criu: interrupted: the restore had just finished; restore helper (pid \(pid)) killed\n".utf8))
            return report
        }
        guard report.ok, machine.hold else {
            child.kill()
            return report
        }
        guard child.send(RestoreHelperMessage.hold.frame()), case .held? = readReply() else {
            child.kill()
            throw MachineError("restore helper (pid \(pid)) did not confirm hold: \(child.wait())")
        }
        child.release()
        heldPID = pid
        machine.noteHeld(pid)
        return report
    }

    /// The helper's next message on fd 3; nil when it died or `shouldStop` said so.
    func readReply(shouldStop: () -> Bool = { false }) -> RestoreHelperMessage? {
        guard let header = child.readStatus(exactly: 5, shouldStop: shouldStop),
              let (kind, length) = try? RestoreHelperMessage.header(header),
              let payload = child.readStatus(exactly: length, shouldStop: shouldStop) else { return nil }
        do { return try RestoreHelperMessage.decode(kind: kind, payload: payload) } catch {
            return .refused("restore helper (pid \(child.pid)) sent a message that cannot be read: \(error)")
        }
    }
}
