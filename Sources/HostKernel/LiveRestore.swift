#if canImport(Glibc)
import Glibc
#endif
import TimerCore
import TimerFormats

/// `restore CHECKPOINT --into PID`: the checkpoint's timers, at their IDs, in
/// a process that is already running (docs/restore-into.md). The strategies,
/// the plan and the verification are the Restorer's; the kernel is a
/// `LiveProcessKernel`. All or nothing: on failure every timer the tool
/// created is deleted again.
public enum LiveRestore {
    /// Refused before any syscall: one line, the target untouched.
    public struct Refusal: Error, CustomStringConvertible, Equatable {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    public struct Request {
        public var checkpoint: Checkpoint
        public var pid: Int32
        public var strategy: RestoreStrategy
        public var deadThreadNotify: DeadThreadNotifyPolicy
        /// Checkpoint tid -> target tid, overriding the positional mapping.
        public var threadMap: [Int32: Int32]
        public var control: RestoreControl

        public init(checkpoint: Checkpoint, pid: Int32, strategy: RestoreStrategy = .auto,
                    deadThreadNotify: DeadThreadNotifyPolicy = .none, threadMap: [Int32: Int32] = [:],
                    control: RestoreControl = .none) {
            self.checkpoint = checkpoint
            self.pid = pid
            self.strategy = strategy
            self.deadThreadNotify = deadThreadNotify
            self.threadMap = threadMap
            self.control = control
        }
    }

    /// Parses `OLD=NEW,OLD=NEW`.
    public static func parseThreadMap(_ text: String) -> [Int32: Int32]? {
        var map: [Int32: Int32] = [:]
        for pair in text.split(separator: ",") {
            let sides = pair.split(separator: "=")
            guard sides.count == 2, let old = Int32(sides[0]), let new = Int32(sides[1]), old > 0, new > 0,
                  map.updateValue(new, forKey: old) == nil else { return nil }
        }
        return map.isEmpty ? nil : map
    }

    /// Checks the target, stops it, restores, verifies, rolls back on failure, resumes it.
    /// - Throws: `Refusal` when nothing was done (the target is as it was).
    public static func run(_ request: Request) throws(Refusal) -> RestoreReport {
        let pid = request.pid
        let checkpoint = request.checkpoint
        try checkTarget(pid)
        let wanted = Set(checkpoint.timers.map(\.id))
        try checkConflicts(pid: pid, wanted: wanted)
        try checkFDs(pid: pid, checkpoint: checkpoint)
        let mapped = try mapThreads(checkpoint, pid: pid, threadMap: request.threadMap)
        let kernel: LiveProcessKernel
        do { kernel = try LiveProcessKernel(pid: pid, mappedThreads: mapped) } catch {
            throw Refusal(message(error, pid: pid))
        }
        // Every thread is stopped now: what /proc shows cannot change under us.
        var before: Set<Int32> = []
        do throws(Refusal) {
            before = try checkConflicts(pid: pid, wanted: wanted)
            try checkFDs(pid: pid, checkpoint: checkpoint)
            if mapped.contains(where: { !kernel.allThreads.contains($0) }) {
                throw Refusal("a thread of process \(pid) the checkpoint maps onto exited before the restore; nothing changed")
            }
        } catch {
            _ = try? kernel.close()
            throw error
        }
        let strategy = request.strategy.resolved(offered: kernel.restoreInterfaces)
        var control = request.control
        var counterNote: String?
        if strategy == .dance {
            // The dance needs the counter below every wanted ID (docs/kernel-facts.md
            // section 3.1): find where it stands with one create and delete.
            switch probeCounter(kernel) {
            case .failure(let why):
                _ = try? kernel.close()
                throw Refusal("dance into process \(pid): \(why); nothing changed")
            case .success(let counter):
                let lowest = wanted.min() ?? counter
                if lowest < counter {
                    _ = try? kernel.close()
                    throw Refusal("dance into process \(pid): its timer ID counter is at \(counter) and the dance only "
                        + "goes up (it would have to wrap around INT_MAX to reach ID \(lowest)); use --strategy create-at-id "
                        + "(Linux 6.15+). Only the counter moved (by the probe's one create)")
                }
                control.counterStart = counter
            }
        }
        // The fd limit and the itimers as they are, to put back on a roll-back.
        let fdLimitBefore = try? kernel.fdLimit()
        let itimersBefore = checkpoint.itimers == nil ? [] : kernel.performTimerFD(
            CheckpointITimers.Which.allCases.map { TimerFDStep(.getitimer($0), stopsOnError: false) })
        var options = Restorer.Options(strategy: strategy, deadThreadNotify: request.deadThreadNotify, control: control)
        options.othersAllowed = true
        var report = Restorer.restore(checkpoint, into: kernel, options: options)
        if let injection = kernel.injectionError {
            report.notes.append("injection: \(message(injection, pid: pid))")
        }
        if report.error == nil, control.isCancelled?() == true {
            // ^C or SIGTERM during the restore: all or nothing, so nothing.
            report.error = RestoreFailure(.interrupted, "interrupted (the restore had finished; rolled back)")
        }
        // The report lists the checkpoint's timers; the target's own are in a note.
        report.timers = report.timers.filter { wanted.contains($0.id) }
        if report.error != nil {
            rollBack(&report, kernel: kernel, wanted: wanted, before: before)
            rollBackOtherTimers(&report, checkpoint: checkpoint, kernel: kernel, itimersBefore: itimersBefore)
            if let fdLimitBefore, (try? kernel.fdLimit()) != fdLimitBefore {
                report.notes.append((try? kernel.setFDLimit(fdLimitBefore)) != nil
                    ? "rolled back: RLIMIT_NOFILE of process \(pid) is \(fdLimitBefore.soft) again"
                    : "roll-back incomplete: RLIMIT_NOFILE of process \(pid) stays raised")
            }
        } else if let highest = wanted.max() {
            counterNote = "the timer ID counter of process \(pid) is now at \(Int64(highest) + 1) "
                + "(\(strategy == .createAtID ? "create-at-ID" : "the dance") leaves it at the last restored ID + 1): "
                + "its next timer_create gets \(Int64(highest) + 1) or the next free ID after it"
        }
        if let counterNote { report.notes.append(counterNote) }
        do { try kernel.close() } catch {
            report.notes.append("detaching: \(message(error, pid: pid))")
        }
        return report
    }

    /// Deletes every checkpoint timer that exists now and did not before,
    /// turns create-at-ID mode off, and reads /proc again for the report.
    static func rollBack(_ report: inout RestoreReport, kernel: LiveProcessKernel, wanted: Set<Int32>, before: Set<Int32>) {
        let shown = (try? ProcTimersParser.parse(try kernel.readProcTimers())) ?? []
        let created = Set(shown.map(\.id)).intersection(wanted).subtracting(before).sorted()
        let done = kernel.perform(created.map { .timerDelete($0) }, stopOnError: false,
                                  finally: [.prctlRestoreIDs(.off)])
        let failed = zip(created, done.results).filter { $0.1.failure != nil }.map(\.0)
        let after = (try? ProcTimersParser.parse(try kernel.readProcTimers())) ?? []
        report.timers = report.timers.filter { timer in after.contains { $0.id == timer.id } }
        if failed.isEmpty {
            report.notes.append("rolled back: deleted the \(created.count) timer(s) this restore had created; "
                + "process \(kernel.processID) has none of the checkpoint's timers and create-at-ID mode is off")
        } else {
            report.notes.append("roll-back incomplete: timer_delete failed for IDs "
                + failed.map(String.init).joined(separator: ", "))
        }
    }

    /// Closes the checkpoint's fds that are open now (every one was free
    /// before: checked with the target stopped) and puts the itimers back as
    /// they were, in one stop.
    static func rollBackOtherTimers(_ report: inout RestoreReport, checkpoint: Checkpoint, kernel: LiveProcessKernel,
                                    itimersBefore: [KernelCallResult]) {
        let timerFDs = checkpoint.timerFDs ?? []
        guard !timerFDs.isEmpty || checkpoint.itimers != nil else { return }
        let open = ProcFS.openFDs(pid: kernel.processID) ?? []
        let created = timerFDs.map(\.fd).filter { open.contains($0) }
        var steps = created.map { TimerFDStep(.close(.fd($0)), stopsOnError: false) }
        for (which, result) in zip(CheckpointITimers.Which.allCases, itimersBefore) {
            if case let .time(value) = result { steps.append(TimerFDStep(.setitimer(which, value), stopsOnError: false)) }
        }
        let done = kernel.performTimerFD(steps)
        let failed = zip(steps, done).filter { $0.1.failure != nil }.map(\.0.call)
        report.timerFDs = report.timerFDs.map { _ in [] }
        report.itimers = nil
        if failed.isEmpty {
            report.notes.append("rolled back: closed the \(created.count) timerfd(s) this restore had placed"
                + (itimersBefore.isEmpty ? "" : " and put the interval timers back as they were"))
        } else {
            report.notes.append("roll-back incomplete: \(failed.count) of the close/setitimer calls failed")
        }
    }

    /// Refuses when a timerfd's fd number is taken in the target.
    static func checkFDs(pid: Int32, checkpoint: Checkpoint) throws(Refusal) {
        let timerFDs = checkpoint.timerFDs ?? []
        guard !timerFDs.isEmpty else { return }
        guard let open = ProcFS.openFDs(pid: pid) else {
            throw Refusal("cannot list the fds of process \(pid) (/proc/\(pid)/fd): \(KernelErrno.current.name)")
        }
        if let highest = timerFDs.map(\.fd).max(), let limit = try? HostKernel.fdLimit(of: pid), UInt64(highest) >= limit.hard {
            throw Refusal("timerfd \(highest): fd \(highest) is not below the RLIMIT_NOFILE hard limit \(limit.hard) of process "
                + "\(pid) (only CAP_SYS_RESOURCE raises it, e.g. prlimit --pid \(pid) --nofile=\(Int64(highest) + 1)): refused, nothing changed")
        }
        let taken = timerFDs.map(\.fd).filter { open.contains($0) }
        if let first = taken.first {
            throw Refusal("timerfd \(first): fd \(first) is already open in process \(pid)"
                + (taken.count > 1 ? " (and fd " + taken.dropFirst().map(String.init).joined(separator: ", ") + ")" : "")
                + ": refused, nothing changed")
        }
    }

    enum Probe { case success(Int32), failure(String) }

    static func probeCounter(_ kernel: LiveProcessKernel) -> Probe {
        let done = kernel.perform([.timerCreate(clock: .monotonic, sigevent: Sigevent(.none, signal: 0), idBuffer: 0)],
                                  stopOnError: false, finally: [])
        switch done.results[0] {
        case .value(let id):
            _ = kernel.perform([.timerDelete(Int32(id))], stopOnError: false, finally: [])
            return .success(Int32(truncatingIfNeeded: id + 1))
        case .failed(let error): return .failure("timer_create: \(error.name): \(error.message)")
        default: return .failure("timer_create was not made")
        }
    }

    /// The checks made before touching the target.
    static func checkTarget(_ pid: Int32) throws(Refusal) {
        guard pid > 0, access("/proc/\(pid)", F_OK) == 0 else { throw Refusal("no process with pid \(pid)") }
        if ProcFS.isKernelThread(directory: "/proc/\(pid)") {
            throw Refusal("process \(pid) is a kernel thread: it has no timers and cannot be traced")
        }
        guard let status = ProcFS.status(pid: pid) else { throw Refusal("no process with pid \(pid)") }
        if let tgid = status.threadGroup, tgid != pid {
            throw Refusal("\(pid) is a thread of process \(tgid): give the process id")
        }
        guard !ProcFS.liveThreads(pid: pid).isEmpty else { throw Refusal("process \(pid) has exited (zombie)") }
        if let tracer = status.tracerPID, tracer != 0 {
            throw Refusal("process \(pid) is already traced by pid \(tracer) (a debugger or strace?): it cannot be traced twice")
        }
        do { try TimerValueReader.checkSeccomp(pid: pid, status: status) } catch {
            if case let .injectionFailed(_, reason) = error { throw Refusal("cannot restore into process \(pid): \(reason)") }
            throw Refusal(message(error, pid: pid))
        }
        if status.threadFeatures?.contains("shstk") == true {
            throw Refusal("cannot restore into process \(pid): it uses a user shadow stack, where the injection's rt_sigreturn safety frame cannot be built")
        }
        // ELF class and machine of its executable: e_ident[EI_CLASS] = 2 (64-bit), e_machine = 62 (x86-64).
        let fd = open("/proc/\(pid)/exe", O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            var header = [UInt8](repeating: 0, count: 20)
            let got = header.withUnsafeMutableBytes { read(fd, $0.baseAddress, 20) }
            close(fd)
            if got == 20, header[0] == 0x7f, header[1] == 0x45 {
                let machine = UInt16(header[18]) | UInt16(header[19]) << 8
                if header[4] != 2 || machine != 62 {
                    throw Refusal("cannot restore into process \(pid): it is not an x86-64 program (ELF class \(header[4]), machine \(machine)); the injection engine runs x86-64 code only")
                }
            }
        }
        #if !arch(x86_64)
        throw Refusal("cannot restore into process \(pid): syscall injection is implemented for x86-64 only")
        #endif
    }

    /// Refuses when an ID of the checkpoint is live in the target; returns the target's IDs.
    @discardableResult
    static func checkConflicts(pid: Int32, wanted: Set<Int32>) throws(Refusal) -> Set<Int32> {
        let bytes: [UInt8]
        do { bytes = try ProcFS.readTimers(pid: pid) } catch { throw Refusal("\(error)") }
        let live: [ProcTimer]
        do { live = try ProcTimersParser.parse(bytes) } catch { throw Refusal("/proc/\(pid)/timers: \(error)") }
        let ids = Set(live.map(\.id))
        let conflicts = ids.intersection(wanted).sorted()
        if !conflicts.isEmpty {
            throw Refusal("timer ID(s) " + conflicts.prefix(10).map(String.init).joined(separator: ", ")
                + (conflicts.count > 10 ? " and \(conflicts.count - 10) more" : "")
                + " of the checkpoint already live in process \(pid): refused, nothing changed")
        }
        return ids
    }

    /// The target threads the plan's notify threads map onto: the checkpoint's
    /// threads onto the target's in order (main onto main), unless `threadMap`
    /// says otherwise.
    static func mapThreads(_ checkpoint: Checkpoint, pid: Int32, threadMap: [Int32: Int32]) throws(Refusal) -> [Int32] {
        let needed = RestorePlan.notifyThreads(of: checkpoint)
        let targetThreads = ProcFS.liveThreads(pid: pid)
        for (old, new) in threadMap.sorted(by: { $0.key < $1.key }) {
            guard checkpoint.threads.contains(old) || needed.contains(old) else {
                throw Refusal("--thread-map \(old)=\(new): \(old) is not a thread of the checkpoint (threads \(checkpoint.threads.map(String.init).joined(separator: " ")))")
            }
            guard targetThreads.contains(new) else {
                throw Refusal("--thread-map \(old)=\(new): \(new) is not a thread of process \(pid)")
            }
        }
        let othersInTarget = targetThreads.filter { $0 != pid }
        var mapped: [Int32] = []
        for tid in needed {
            if let new = threadMap[tid] { mapped.append(new); continue }
            // Positional: the checkpoint's n-th thread onto the target's n-th.
            let position = checkpoint.threads.firstIndex(of: tid) ?? (checkpoint.threads.count + (needed.firstIndex(of: tid) ?? 0))
            guard position >= 1, position - 1 < othersInTarget.count else {
                throw Refusal("the checkpoint needs \(max(needed.count, position)) thread(s) besides the main one "
                    + "(its thread \(tid), number \(position + 1) of \(checkpoint.threads.count), is named by a thread_id timer "
                    + "or a thread CPU clock) and process \(pid) has \(othersInTarget.count): refused, nothing changed "
                    + "(--thread-map \(tid)=TID picks a thread)")
            }
            mapped.append(othersInTarget[position - 1])
        }
        return mapped
    }

    static func message(_ error: PtraceError, pid: Int32) -> String {
        switch error {
        case .processExited: return "process \(pid) exited during the restore"
        case let .unsupportedArchitecture(_, reason), let .injectionFailed(_, reason):
            return "cannot restore into process \(pid): \(reason)"
        default: return error.description
        }
    }
}
