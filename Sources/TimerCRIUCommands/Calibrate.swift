#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import HostKernel
import TimerCore
import TimerFormats
import TimerComparison

/// `timer-criu calibrate`: time the raw timer syscalls on this host and save
/// the figures for `compare --costs` (docs/compare.md).
public struct Calibrate: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Measure what each timer syscall costs on this host, for `compare --costs`.",
        discussion: """
            Measures wall time, the time a real restore takes: a create+delete pair as \
            the real dance makes it (host restores by the dance to ID 100000 in a fresh \
            helper, the report's wall time per step), and with the raw syscalls in this \
            process a plain create, a create at an ID (prctl create-at-ID mode), a delete, \
            a settime, a prctl, and a write of an integer to a /proc file (standing in for \
            the cursor sysctl no kernel has), with --live-timers other timers alive. Each \
            figure is the median of the rounds. Every timer made is deleted again. Use a \
            release build. Exit codes: 0 measured, 1 a syscall failed (e.g. EAGAIN when \
            other processes hold the user's RLIMIT_SIGPENDING), 64 usage, 73 cannot write FILE.
            """
    )

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the costs file to <file> instead of stdout (- is stdout; a regular file is replaced atomically, a device written in place).",
                                                    valueName: "file"))
    var output: String?

    // .unconditional: a negative value is the value (refused by validate), not an option.
    @Option(parsing: .unconditional, help: "Calls timed per figure and round.")
    var iterations: Int = 20_000

    @Option(parsing: .unconditional, help: "Rounds; each figure is the median.")
    var rounds: Int = 7

    @Option(name: .customLong("live-timers"), parsing: .unconditional, help: "Other timers kept alive while measuring.")
    var liveTimers: Int = 1_000

    public init() {}

    public func validate() throws {
        if output == "" { throw ValidationError("-o needs a file name (or - for stdout), not an empty string") }
        guard (1...10_000_000).contains(iterations) else { throw ValidationError("--iterations must be 1...10000000") }
        guard (1...101).contains(rounds) else { throw ValidationError("--rounds must be 1...101") }
        guard (0...50_000).contains(liveTimers) else { throw ValidationError("--live-timers must be 0...50000") }
    }

    /// The wall time of one dance step as a real restore makes it: a host
    /// restore (fresh helper, `restore --kernel host --strategy dance`) of one
    /// timer at this ID, its report's wall time divided by its steps; the
    /// median over `rounds` restores.
    static let danceCalibrationID: Int32 = 100_000

    static func danceStepWallTime(rounds: Int) throws(CommandFailure) -> Double {
        let pid: Int32 = 100
        let checkpoint = Checkpoint(pid: pid, kernel: "calibrate", threads: [pid], timers: [
            CheckpointTimer(id: danceCalibrationID, clockID: .monotonic, signal: 14, sigevValue: 0, notify: .none,
                            notifyTarget: pid, valueNanoseconds: 0, intervalNanoseconds: 0, overrun: 0),
        ])
        var perStep: [Double] = []
        for round in 1...max(1, rounds) {
            StandardStream.error.write("calibrate: host dance to ID \(danceCalibrationID) in a fresh helper, \(round) of \(rounds)\n")
            let report = try? MachineRestore([checkpoint], on: HostMachine()).restore(0, options: .init(strategy: .dance))
            guard let report, report.ok, report.syscalls.timerCreate > 0 else {
                throw CommandFailure("calibrate: the host dance to ID \(danceCalibrationID) did not verify"
                    + (report?.error.map { " (\($0.message))" } ?? " (the restore helper died)"), exitCode: TimerCRIUExit.failed)
            }
            perStep.append(Double(report.wallNanoseconds) / Double(report.syscalls.timerCreate))
        }
        perStep.sort()
        return perStep[perStep.count / 2]
    }

    public func run() throws {
        var costs: SyscallCosts?
        // Other processes of this user may hold most of RLIMIT_SIGPENDING for a
        // while (docs/kernel-facts.md section 2): retry EAGAIN a few times.
        for attempt in 1...4 {
            do {
                costs = try Calibration.measure(.init(iterations: iterations, rounds: rounds, liveTimers: liveTimers)) {
                    StandardStream.error.write("calibrate: \($0)\n")
                }
                break
            } catch {
                if error.errno == .EAGAIN && attempt < 4 {
                    StandardStream.error.write("calibrate: \(error); retrying in 2 s\n")
                    sleep(2)
                    continue
                }
                throw CommandFailure(error.description, exitCode: TimerCRIUExit.failed)
            }
        }
        guard var costs else { return }
        costs.createDeletePair = try Self.danceStepWallTime(rounds: rounds)
        let bytes = costs.jsonBytes()
        if let output {
            try OutputFile.write(bytes, to: output)
            if output != OutputFile.standardOutputPath { StandardStream.error.write("calibrate: wrote \(output)\n") }
        } else {
            StandardStream.output.write(String(decoding: bytes, as: UTF8.self))
        }
    }
}
