#if canImport(Glibc)
import Glibc
#endif
import CTimerSyscalls
import SystemPackage
import TimerCore

/// The helper side of a host restore: a fresh process started by
/// `HostMachine` (`timer-criu _restore-helper`), whose timer ID counter starts
/// at 0 as the dance needs. It starts its threads, reads one `restore`
/// message (RestoreHelperMessages.swift), runs `Restorer` on its own
/// `HostKernel`, verifies through its own /proc/PID/timers and sends the
/// report back as data; the tool prints it. Then it exits, or on `hold`
/// keeps its timers until killed.
public enum RestoreHelper {
    /// The hidden subcommand the helper is started with.
    public static let command = "_restore-helper"

    /// The helper's main, in the fresh process.
    public static func main(parent: Int32, threads: Int) -> Never {
        // Die with the tool, whatever kills it (even SIGKILL): no helper left behind.
        _ = tc_prctl(1 /* PR_SET_PDEATHSIG */, UInt(SIGKILL), 0, 0, 0)
        if getppid() != parent { exit(3) }
        closeInheritedDescriptors()
        StopSignals.catchInterruptAndTerminate()
        blockTimerSignals()
        let kernel = HostKernel(extraThreads: threads)
        // The reply channel is fd 3 until a timerfd of the checkpoint needs that number.
        var replyFD: Int32 = 3
        func reply(_ message: RestoreHelperMessage) { writeAll(replyFD, message.frame()) }
        let request: RestoreHelperRequest
        switch readMessage() {
        case .success(.restore(let r))?: request = r
        case .failure(let error)?:
            reply(.refused("restore helper: \(error)"))
            exit(2)
        default: exit(2)  // the tool went away, or sent something else
        }
        let checkpoint = request.checkpoint
        let wantedFDs = Set(checkpoint.timerFDs?.map(\.fd) ?? [])
        if wantedFDs.contains(replyFD), let highest = wantedFDs.max(), tc_dup3(replyFD, highest + 1, O_CLOEXEC) >= 0 {
            close(replyFD)
            replyFD = highest + 1
        }
        let strategy = request.strategy
        let progress = ProgressLine.onStandardError(
                                    label: strategy == .dance || strategy == .auto ? "dance" : strategy.rawValue)
        let control = RestoreControl(progress: { done, total in progress.update(done: done, total: total) },
                                     isCancelled: { StopSignals.received != 0 })
        let options = Restorer.Options(strategy: strategy, deadThreadNotify: request.deadThreadNotify,
                                       otherPIDs: request.otherPIDs, control: control)
        let hooks = RestoreHelper.DebugHooks.fromEnvironment()
        RacingThreads.start(hooks.racingThreads, wantedIDs: checkpoint.timers.map(\.id))
        let report = hooks.createDelayMicroseconds > 0
            ? Restorer.restore(checkpoint, into: SlowCreateKernel(kernel, delayMicroseconds: hooks.createDelayMicroseconds),
                               options: options)
            : Restorer.restore(checkpoint, into: kernel, options: options)
        progress.finish()
        reply(.report(report))
        switch report.error?.code {
        case nil: break
        case .planRefused?: exit(2)
        case .interrupted?: exit(130)
        default: exit(1)
        }
        guard case .success(.hold)? = readMessage() else { exit(0) }
        // Keep the timers: outlive the tool, leave its terminal and session.
        _ = tc_prctl(1 /* PR_SET_PDEATHSIG */, 0, 0, 0, 0)
        setsid()
        let devnull = open("/dev/null", O_RDWR)
        dup2(devnull, 0); dup2(devnull, 1); dup2(devnull, 2)
        if devnull > 2 { close(devnull) }
        reply(.held)
        close(replyFD)
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        while true { pause() }
    }

    /// One message from stdin; nil when the pipe closed first.
    static func readMessage() -> Result<RestoreHelperMessage, MessageError>? {
        guard let header = readExactly(5) else { return nil }
        do {
            let (kind, length) = try RestoreHelperMessage.header(header)
            guard let payload = readExactly(length) else { return nil }
            return .success(try RestoreHelperMessage.decode(kind: kind, payload: payload))
        } catch {
            return .failure(error)
        }
    }

    static func readExactly(_ count: Int) -> [UInt8]? { FileDescriptor.standardInput.readExactly(count) }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) { _ = try? FileDescriptor(rawValue: fd).writeAll(bytes) }

    /// Closes every descriptor above 3 that the tool's parent let us inherit
    /// (posix_spawn passes all that are not close-on-exec). A held helper
    /// outlives the tool: an inherited pipe or socket, such as the one
    /// Foundation's Process watches for its child's exit, would otherwise
    /// stay open and make the caller wait for the helper.
    static func closeInheritedDescriptors() {
        // The listing's own descriptor is among the names, closed again by
        // the time they are returned (a close of it gets EBADF; the helper
        // has no other thread yet that could reuse the number).
        guard let fds = try? DirectoryListing.numberedNames("/proc/self/fd") else { return }
        for fd in fds where fd > 3 { close(fd) }
    }

    /// Blocks every signal a restored timer might send, except the ones that
    /// stop the helper (SIGINT, SIGTERM): an armed SIGALRM timer must not kill it.
    static func blockTimerSignals() {
        var set = sigset_t()
        sigfillset(&set)
        sigdelset(&set, SIGINT)
        sigdelset(&set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }
}
