import ArgumentParser
import Foundation
import HostKernel
import ModelKernel
import TimerCore

/// `timer-criu simulate`: runs a script of timer syscalls on a fresh model
/// process, or for real on the host in a fresh child process, and prints one
/// line per call.
public struct Simulate: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Run a script of timer syscalls on a model kernel or on the host; print one line per call.",
        discussion: """
            Each call prints one line, its result alone: the new ID, 0 (delete, settime, cursor, \
            sleep), prctl's value, "V P" for gettime, the overrun count, or the errno name (EINVAL, \
            EBUSY, EAGAIN, EOPNOTSUPP, EPERM, ENOENT). On linux-6.15 and on the host the same script \
            prints the same lines, except the times of gettime and the counts of getoverrun: the \
            model's clock moves only by sleep, the host's runs on its own. \
            Blank lines and # comments print nothing. Lines:
              create clock=C [notify=signal|none|thread|thread_id|N] [signal=S]
                     [sival=0xHEX] [tid=K | target=T] [id=I]
              delete id=I
              settime id=I value_ns=V [interval_ns=P] [abs=1]
              gettime id=I
              getoverrun id=I
              prctl restore-ids=on|off|get
              cursor id=I
              sleep ns=N
            Without notify= a NULL sigevent is passed. Without id= the ID buffer holds 0 (what \
            create-at-ID mode reads). tid=K aims thread_id at the K-th thread (0 = main), \
            target=T at the raw tid T. With --kernel host the script runs in a fresh child \
            process (all signals blocked, so expiring timers stay pending). \
            docs/model-kernel.md describes the language and the profiles. \
            Exit codes: 0 ran, 1 the host child failed, 2 the script was refused (nothing ran), 64 usage.
            """
    )

    @Option(help: "A model kernel profile (see `timer-criu kernels`) or host.")
    var kernel: KernelOption = .model(.linux615)

    @Option(help: "Extra threads besides the main thread, 0...64 (thread_id targets tid=1...N).")
    var threads = 0

    @Option(name: .customLong("drop-cap"), help: "Drop a capability from the process (the cursor then answers EPERM).")
    var dropCap: [DroppableCapability] = []

    @Argument(help: "The script file, or - for stdin.")
    var script = "-"

    public init() {}

    public enum DroppableCapability: String, ExpressibleByArgument, CaseIterable {
        case checkpointRestore = "checkpoint-restore"
    }

    public func validate() throws {
        guard (0...64).contains(threads) else { throw ValidationError("--threads must be 0...64, got \(threads)") }
    }

    public func run() throws {
        let text = Self.readScript(script)
        let parsed: SimulationScript
        do {
            parsed = try SimulationScript.parse(text, threads: threads + 1)
        } catch {
            let name = script == "-" ? "stdin" : script
            fail(CommandFailure("\(name): \(error)", exitCode: TimerCRIUExit.badInput))
        }
        switch kernel {
        case .model(let profile):
            let capabilities: ModelCapabilities = dropCap.contains(.checkpointRestore) ? [] : [.checkpointRestore]
            let process = ModelKernel(profile: profile).spawnProcess(extraThreads: threads, capabilities: capabilities)
            SimulationRunner.run(parsed, on: process) { StandardStream.output.write($0 + "\n") }
        case .host:
            runOnHost(text: text, expectedLines: parsed.outputLineCount)
        }
    }

    static func readScript(_ path: String) -> String {
        if path == "-" {
            return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file"
            fail(CommandFailure("\(path): \(reason)", exitCode: TimerCRIUExit.badInput))
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Re-executes this binary as `_simulate-child` (a fresh process: counter
    /// 0, create-at-ID mode off, no timers), feeds it the script on stdin; it
    /// prints its lines on our stdout and its count on fd 3. Waited for with
    /// waitpid (ChildProcess), not Foundation's Process: that needs a run
    /// loop whose CFSocket wakeup pair cannot be made with the loopback
    /// interface down, and then never returns. The child is killed by its pid
    /// if anything goes wrong.
    private func runOnHost(text: String, expectedLines: Int) {
        let child: ChildProcess
        do {
            child = try ChildProcess([ChildProcess.currentExecutable, "_simulate-child", "--threads", String(threads)])
        } catch {
            fail(CommandFailure("cannot start the host child: \(error)", exitCode: TimerCRIUExit.restoreFailed))
        }
        let pid = child.pid
        guard child.send(Array(text.utf8)) else {
            child.kill()
            fail(CommandFailure("host child \(pid) did not take the script", exitCode: TimerCRIUExit.restoreFailed))
        }
        child.closeInput()
        let done = child.readStatusLine()
        let status = child.wait()
        let lines = done.flatMap { $0.hasPrefix("done ") ? Int($0.dropFirst(5)) : nil } ?? 0
        guard status == "exit 0", lines == expectedLines else {
            fail(CommandFailure("host child \(pid) stopped after \(lines) of \(expectedLines) calls (\(status))",
                                exitCode: TimerCRIUExit.restoreFailed))
        }
    }
}

/// The fresh host process of `simulate --kernel host`: runs the script from
/// stdin with raw syscalls on itself and prints one line per call.
public struct SimulateChild: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "_simulate-child",
        abstract: "Internal: the host process of `simulate --kernel host`.",
        shouldDisplay: false
    )

    @Option var threads = 0

    public init() {}

    public func run() throws {
        // Expiring timers must not kill us: their signals stay pending
        // (a timer's sigqueue is preallocated, so pending costs nothing more).
        var all = sigset_t()
        sigfillset(&all)
        sigprocmask(SIG_BLOCK, &all, nil)
        let text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        let script: SimulationScript
        do { script = try SimulationScript.parse(text, threads: threads + 1) } catch {
            fail(CommandFailure("\(error)", exitCode: TimerCRIUExit.badInput))
        }
        let kernel = HostKernel(extraThreads: threads)
        var lines = 0
        SimulationRunner.run(script, on: kernel) {
            StandardStream.output.write($0 + "\n")
            lines += 1
        }
        // The count for the parent (fd 3, a pipe from ChildProcess).
        ChildProcess.reportStatus("done \(lines)")
    }
}
