import ArgumentParser
import Foundation
import HostKernel
import ModelKernel
import TimerCore
import TimerFormats
import TimerComparison

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
            --generate prints one of the scripts that check the model against real kernels \
            (a seeded random script, the kernel-facts scenario, alarms, or sigpending:N) instead of running one. \
            docs/model-kernel.md describes the language and the profiles. \
            Exit codes: 0 ran, 1 the host child failed, 2 the script was refused (nothing ran), 64 usage.
            """
    )

    @OptionGroup var kernelOptions: KernelOptions
    var kernel: KernelOption { kernelOptions.kernel }

    @Option(help: "Extra threads besides the main thread, 0...64 (thread_id targets tid=1...N).")
    var threads = 0

    @Option(name: .customLong("drop-cap"), help: "Drop a capability from the process (the cursor then answers EPERM).")
    var dropCap: [DroppableCapability] = []

    @Option(help: ArgumentHelp("Run the script inside this running process instead (ptrace injection, restore --into's kernel): it should be fresh (no timers yet) for IDs to match the host's.", valueName: "pid"))
    var into: Int32?

    @Flag(help: "A model machine with an RTC: alarm clocks (8, 9) work, the process holds CAP_WAKE_ALARM (as root). Model kernels only.")
    var rtc = false

    @Option(name: .customLong("sigpending-limit"), help: "RLIMIT_SIGPENDING for the run: the model machine's limit; on the host the child sets it on itself (the count covers all of the user's processes).")
    var sigpendingLimit: Int?

    @Option(help: "Print a generated script instead of running one: SEED (the differential test's random script), kernel-facts, alarms, or sigpending:N (for --sigpending-limit N).")
    var generate: GeneratedScript?

    @Option(help: "Calls in a --generate SEED script.")
    var calls = DifferentialScripts.defaultCalls

    @Argument(help: "The script file, or - for stdin.")
    var script = "-"

    public init() {}

    public enum DroppableCapability: String, ExpressibleByArgument, CaseIterable {
        case checkpointRestore = "checkpoint-restore"
        case wakeAlarm = "wake-alarm"
    }

    /// The scripts of `DifferentialScripts`, by name.
    public enum GeneratedScript: Equatable, ExpressibleByArgument {
        case random(seed: UInt64)
        case kernelFacts
        case alarms
        case sigpending(limit: Int)

        public init?(argument: String) {
            if argument == "kernel-facts" {
                self = .kernelFacts
            } else if argument == "alarms" {
                self = .alarms
            } else if argument.hasPrefix("sigpending:"), let n = Int(argument.dropFirst(11)), (0...10_000).contains(n) {
                self = .sigpending(limit: n)
            } else if let seed = UInt64(argument) {
                self = .random(seed: seed)
            } else {
                return nil
            }
        }

        public static var allValueStrings: [String] { ["SEED", "kernel-facts", "alarms", "sigpending:N"] }

        func text(calls: Int) -> String {
            switch self {
            case .random(let seed): return DifferentialScripts.random(seed: seed, calls: calls)
            case .kernelFacts: return DifferentialScripts.kernelFacts
            case .alarms: return DifferentialScripts.alarms
            case .sigpending(let limit): return DifferentialScripts.sigpending(limit: limit)
            }
        }
    }

    public func validate() throws {
        guard (0...64).contains(threads) else { throw ValidationError("--threads must be 0...64, got \(threads)") }
        guard (0...1_000_000).contains(calls) else { throw ValidationError("--calls must be 0...1000000, got \(calls)") }
        if let sigpendingLimit, sigpendingLimit < 0 {
            throw ValidationError("--sigpending-limit must be 0 or more, got \(sigpendingLimit)")
        }
        if kernel == .host, rtc {
            throw ValidationError("--rtc describes a model machine; the host has an RTC or not (`timer-criu check` says which)")
        }
        if kernel == .host, dropCap.contains(.wakeAlarm) {
            throw ValidationError("--drop-cap wake-alarm works on model kernels only")
        }
    }

    public func run() throws {
        if let generate {
            StandardStream.output.write(generate.text(calls: calls))
            return
        }
        let text = try Self.readScript(script)
        let parsed: SimulationScript
        do {
            parsed = try SimulationScript.parse(text, threads: threads + 1)
        } catch {
            let name = script == "-" ? "stdin" : script
            throw CommandFailure("\(name): \(error)", exitCode: TimerCRIUExit.badInput)
        }
        if let into {
            return try runInto(pid: into, parsed)
        }
        switch kernel {
        case .model(let profile):
            var capabilities: ModelCapabilities = rtc ? [.checkpointRestore, .wakeAlarm] : [.checkpointRestore]
            if dropCap.contains(.checkpointRestore) { capabilities.remove(.checkpointRestore) }
            if dropCap.contains(.wakeAlarm) { capabilities.remove(.wakeAlarm) }
            let machine = sigpendingLimit.map { ModelKernel(profile: profile, sigpendingLimit: $0) } ?? ModelKernel(profile: profile)
            machine.hasRTC = rtc
            let process = machine.spawnProcess(extraThreads: threads, capabilities: capabilities)
            SimulationRunner.run(parsed, on: process) { StandardStream.output.write($0 + "\n") }
        case .host:
            try runOnHost(text: text, expectedLines: parsed.outputLineCount)
        }
    }

    /// The script on the live-process kernel: every thread of `pid` stopped,
    /// its syscalls made by it; thread K of the script is its K-th thread.
    private func runInto(pid: Int32, _ parsed: SimulationScript) throws(CommandFailure) {
        let others = ProcFS.liveThreads(pid: pid).filter { $0 != pid }
        guard others.count >= threads else {
            throw CommandFailure("process \(pid) has \(others.count) thread(s) besides its main one; --threads \(threads) needs that many",
                                exitCode: TimerCRIUExit.failed)
        }
        let kernel: LiveProcessKernel
        do { kernel = try LiveProcessKernel(pid: pid, mappedThreads: Array(others.prefix(threads))) } catch {
            throw CommandFailure(error.description, exitCode: TimerCRIUExit.failed)
        }
        SimulationRunner.run(parsed, on: kernel) { StandardStream.output.write($0 + "\n") }
        do { try kernel.close() } catch {
            throw CommandFailure(error.description, exitCode: TimerCRIUExit.failed)
        }
    }

    static func readScript(_ path: String) throws(CommandFailure) -> String {
        if path == "-" {
            return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file"
            throw CommandFailure("\(path): \(reason)", exitCode: TimerCRIUExit.badInput)
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
    private func runOnHost(text: String, expectedLines: Int) throws(CommandFailure) {
        let child: ChildProcess
        do {
            child = try ChildProcess([ChildProcess.currentExecutable, "_simulate-child", "--threads", String(threads)]
                                     + (sigpendingLimit.map { ["--sigpending-limit", String($0)] } ?? []))
        } catch {
            throw CommandFailure("cannot start the host child: \(error)", exitCode: TimerCRIUExit.failed)
        }
        let pid = child.pid
        guard child.send(Array(text.utf8)) else {
            child.kill()
            throw CommandFailure("host child \(pid) did not take the script", exitCode: TimerCRIUExit.failed)
        }
        child.closeInput()
        let done = child.readStatusLine()
        let status = child.wait()
        let lines = done.flatMap { $0.hasPrefix("done ") ? Int($0.dropFirst(5)) : nil } ?? 0
        guard status == "exit 0", lines == expectedLines else {
            throw CommandFailure("host child \(pid) stopped after \(lines) of \(expectedLines) calls (\(status))",
                                exitCode: TimerCRIUExit.failed)
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
    @Option(name: .customLong("sigpending-limit")) var sigpendingLimit: Int?

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
            throw CommandFailure("\(error)", exitCode: TimerCRIUExit.badInput)
        }
        if let sigpendingLimit {
            do { try HostKernel.setSigpendingLimit(sigpendingLimit) } catch {
                throw CommandFailure("setrlimit(RLIMIT_SIGPENDING, \(sigpendingLimit)): \(error.name)", exitCode: TimerCRIUExit.failed)
            }
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
