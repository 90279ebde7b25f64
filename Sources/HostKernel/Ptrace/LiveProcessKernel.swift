#if canImport(Glibc)
import Glibc
#endif
import CTimerSyscalls
import TimerCore
import TimerFormats

/// The third `TimerKernel`: a live process reached by ptrace injection. Every
/// call is a syscall the target makes itself (timer_create with its sigevent
/// and the wanted ID in the target's memory, prctl, timer_settime ...); a
/// batch (`perform`) is one stop of the target. Every thread of the target is
/// stopped from `open` to `close` (the create-at-ID mode and the ID counter
/// are per process: a running thread's timer_create would take a wanted ID or
/// move the counter, docs/kernel-facts.md section 3). docs/restore-into.md.
public final class LiveProcessKernel: TimerKernel {
    // The timerfd and itimer calls: LiveProcessKernel+TimerFD.swift.
    public let kernelName: String
    public let restoreInterfaces: RestoreInterfaces
    public let processID: Int32
    /// The main thread, then the target threads the plan's notify threads map onto.
    public let threadIDs: [Int32]
    /// Every thread of the target, as stopped.
    public let allThreads: [Int32]
    /// The thread the syscalls are injected into (the first live one: the
    /// main thread, unless it exited).
    public var injectedThread: Int32 { session.pid }
    /// Batches run so far: one stop of the target each.
    public var batchesRun: Int32 { session.report.batches }
    let session: InjectionSession
    private var stoppedThreads: [Int32] = []
    /// prctl ON is sent with the next batch (the creates), so that no stop of
    /// the target ever ends with the mode on.
    private var restoreIDsPending = false

    // x86-64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl).
    enum Number {
        static let prctl = 157, timerCreate = 222, timerSettime = 223, timerGettime = 224
        static let timerGetoverrun = 225, timerDelete = 226
    }

    /// Seizes the target's main thread (the first live one) and stops every
    /// other thread, again until no new thread shows up.
    /// - Parameter mappedThreads: the target's threads for the plan's notify
    ///   threads, in `RestorePlan.notifyThreads(of:)` order.
    public init(pid: Int32, mappedThreads: [Int32]) throws(PtraceError) {
        guard let host = ProcFS.liveThreads(pid: pid).first else { throw .noSuchProcess(pid: pid) }
        processID = pid
        session = try InjectionSession(pid: host, requireFrame: true)
        var stopped: Set<Int32> = [host]
        var others: [Int32] = []
        var list: [Int32] = []
        do throws(PtraceError) {
            while true {
                let now = ProcFS.liveThreads(pid: pid)
                let fresh = now.filter { !stopped.contains($0) }
                if fresh.isEmpty { list = now; break }
                for tid in fresh {
                    do throws(PtraceError) {
                        try InjectionSession.stopThread(tid)
                        others.append(tid)
                    } catch {
                        // A thread that exited meanwhile is no longer part of the target.
                        switch error {
                        case .processExited, .noSuchProcess: break
                        default: throw error
                        }
                    }
                    stopped.insert(tid)
                }
            }
        } catch {
            for tid in others { InjectionSession.resumeThread(tid) }
            _ = try? session.close()
            throw error
        }
        stoppedThreads = others
        allThreads = list
        threadIDs = [pid] + mappedThreads
        kernelName = "live process \(pid) (host \(HostKernel.release))"
        var interfaces: RestoreInterfaces = []
        // The target runs on this kernel: prctl GET answers EINVAL before 6.15 (docs/kernel-facts.md section 3).
        if tc_prctl(PR_TIMER_CREATE_RESTORE_IDS, UInt(TC_PR_TIMER_CREATE_RESTORE_IDS_GET), 0, 0, 0) >= 0 {
            interfaces.insert(.createAtID)
        }
        restoreInterfaces = interfaces
    }

    deinit { _ = try? close() }

    /// Resumes every thread and detaches (registers, mask, stack and scratch
    /// put back). Safe to call twice.
    @discardableResult
    public func close() throws(PtraceError) -> InjectionReport {
        for tid in stoppedThreads { InjectionSession.resumeThread(tid) }
        stoppedThreads = []
        return try session.close()
    }

    /// The failure of the injection itself (not of a syscall), if any: the
    /// calls of a batch that could not run come back `.failed(.EIO)`.
    public internal(set) var injectionError: PtraceError?

    // MARK: batches

    public func perform(_ calls: [KernelCall], stopOnError: Bool, finally: [KernelCall])
        -> (results: [KernelCallResult], finally: [KernelCallResult]) {
        var batch = SyscallBatch()
        var pendingOn: Int?
        if restoreIDsPending {
            pendingOn = batch.add(Number.prctl, [.int(Int64(PR_TIMER_CREATE_RESTORE_IDS)), .value(1), .value(0), .value(0), .value(0)],
                                  stopOnError: true)
            restoreIDsPending = false
        }
        var decoders: [(SyscallBatch) -> KernelCallResult] = []
        decoders.reserveCapacity(calls.count + finally.count)
        for call in calls { decoders.append(add(call, to: &batch, stopOnError: stopOnError, finally: false)) }
        for call in finally { decoders.append(add(call, to: &batch, stopOnError: false, finally: true)) }
        do {
            try session.run(&batch)
        } catch {
            injectionError = error
            return (calls.map { _ in .failed(.EIO) }, finally.map { _ in .failed(.EIO) })
        }
        var results = decoders.map { $0(batch) }
        if let pendingOn, let on = batch.result(pendingOn), on < 0, !calls.isEmpty {
            // The deferred prctl ON failed: the first call says why.
            results[0] = .failed(KernelErrno(rawValue: Int32(-on)))
        }
        return (Array(results[..<calls.count]), Array(results[calls.count...]))
    }

    private func add(_ call: KernelCall, to batch: inout SyscallBatch, stopOnError: Bool, finally: Bool)
        -> (SyscallBatch) -> KernelCallResult {
        let plain = Self.plainResult
        switch call {
        case let .timerCreate(clock, sigevent, idBuffer):
            let id = batch.block(idBuffer)
            var event: Argument = .value(0)
            if let sigevent {
                // struct sigevent: sigev_value (8), sigev_signo (4), sigev_notify (4), _tid (4), padding to 64.
                let block = batch.block(bytes: 64)
                batch.data.withUnsafeMutableBytes { raw in
                    raw.storeBytes(of: sigevent.value, toByteOffset: block, as: UInt64.self)
                    raw.storeBytes(of: sigevent.signal, toByteOffset: block + 8, as: Int32.self)
                    raw.storeBytes(of: sigevent.notify, toByteOffset: block + 12, as: Int32.self)
                    raw.storeBytes(of: sigevent.threadID, toByteOffset: block + 16, as: Int32.self)
                }
                event = .block(block)
            }
            let index = batch.add(Number.timerCreate, [.int(Int64(clock.rawValue)), event, .block(id)],
                                  stopOnError: stopOnError, finally: finally)
            return { batch in
                guard let result = batch.result(index) else { return .notRun }
                if result < 0 { return .failed(KernelErrno(rawValue: Int32(-result))) }
                return .value(Int64(batch.load(Int32.self, at: id)))
            }
        case let .timerDelete(id):
            return plain(batch.add(Number.timerDelete, [.int(Int64(id))], stopOnError: stopOnError, finally: finally))
        case let .timerSettime(id, absolute, value):
            let new = batch.block(Self.itimerspec(value))
            let old = batch.block(bytes: 32)
            return plain(batch.add(Number.timerSettime, [.int(Int64(id)), .value(absolute ? 1 : 0), .block(new), .block(old)],
                                   stopOnError: stopOnError, finally: finally))
        case let .timerGettime(id):
            let slot = batch.block(bytes: 32)
            let index = batch.add(Number.timerGettime, [.int(Int64(id)), .block(slot)], stopOnError: stopOnError, finally: finally)
            return Self.timeResult(index, slot, microseconds: false)
        case let .timerGetoverrun(id):
            return plain(batch.add(Number.timerGetoverrun, [.int(Int64(id))], stopOnError: stopOnError, finally: finally))
        case let .prctlRestoreIDs(op):
            return plain(batch.add(Number.prctl, [.int(Int64(PR_TIMER_CREATE_RESTORE_IDS)), .value(UInt64(op.rawValue)),
                                                  .value(0), .value(0), .value(0)],
                                   stopOnError: stopOnError, finally: finally))
        }
    }

    typealias Argument = SyscallBatch.Argument

    /// The decoder of a call answering in its return value (-errno when negative).
    static func plainResult(_ index: Int) -> (SyscallBatch) -> KernelCallResult {
        { batch in
            guard let result = batch.result(index) else { return .notRun }
            return result < 0 ? .failed(KernelErrno(rawValue: Int32(-result))) : .value(result)
        }
    }

    /// The decoder of a call answering in a 32-byte struct at `slot`:
    /// itimerspec (ns) or itimerval (µs), it_interval first.
    static func timeResult(_ index: Int, _ slot: Int, microseconds: Bool) -> (SyscallBatch) -> KernelCallResult {
        { batch in
            guard let result = batch.result(index) else { return .notRun }
            if result < 0 { return .failed(KernelErrno(rawValue: Int32(-result))) }
            let words = (0..<4).map { batch.load(Int64.self, at: slot + 8 * $0) }
            let unit: Int64 = microseconds ? 1000 : 1
            return .time(TimerValue(valueNanoseconds: words[2] * 1_000_000_000 + words[3] * unit,
                                    intervalNanoseconds: words[0] * 1_000_000_000 + words[1] * unit))
        }
    }

    /// A single call's value, its errno thrown (EIO if it answered otherwise).
    func value(_ result: KernelCallResult) throws(KernelErrno) -> Int64 {
        switch result {
        case .value(let value): return value
        case .failed(let error): throw error
        default: throw .EIO
        }
    }

    /// A single call's time, its errno thrown (EIO if it answered otherwise).
    func time(_ result: KernelCallResult) throws(KernelErrno) -> TimerValue {
        switch result {
        case .time(let value): return value
        case .failed(let error): throw error
        default: throw .EIO
        }
    }

    /// struct itimerspec: it_interval then it_value, each tv_sec and tv_nsec.
    static func itimerspec(_ value: TimerValue) -> (Int64, Int64, Int64, Int64) {
        (value.intervalNanoseconds / 1_000_000_000, value.intervalNanoseconds % 1_000_000_000,
         value.valueNanoseconds / 1_000_000_000, value.valueNanoseconds % 1_000_000_000)
    }

    private func one(_ call: KernelCall) -> KernelCallResult {
        perform([call], stopOnError: false, finally: []).results[0]
    }

    // MARK: single calls

    public func timerCreate(clock: ClockID, sigevent: Sigevent?, idBuffer: Int32) throws(KernelErrno) -> Int32 {
        Int32(truncatingIfNeeded: try value(one(.timerCreate(clock: clock, sigevent: sigevent, idBuffer: idBuffer))))
    }

    public func timerDelete(_ id: Int32) throws(KernelErrno) {
        if let error = one(.timerDelete(id)).failure { throw error }
    }

    @discardableResult
    public func timerSettime(_ id: Int32, absolute: Bool, _ value: TimerValue) throws(KernelErrno) -> TimerValue {
        if let error = one(.timerSettime(id, absolute: absolute, value)).failure { throw error }
        return .disarmed
    }

    public func timerGettime(_ id: Int32) throws(KernelErrno) -> TimerValue {
        try time(one(.timerGettime(id)))
    }

    public func timerGetoverrun(_ id: Int32) throws(KernelErrno) -> Int32 {
        Int32(truncatingIfNeeded: try value(one(.timerGetoverrun(id))))
    }

    @discardableResult
    public func prctlRestoreIDs(_ op: RestoreIDsOperation) throws(KernelErrno) -> Int32 {
        switch op {
        case .on where restoreInterfaces.contains(.createAtID):
            restoreIDsPending = true
            return 0
        default:
            return Int32(truncatingIfNeeded: try value(one(.prctlRestoreIDs(op))))
        }
    }

    /// No cursor sysctl exists (it was proposed, never merged).
    public func writeTimerIDCursor(_ id: Int32) throws(KernelErrno) { throw .ENOENT }

    public func readProcTimers() throws -> [UInt8] { try ProcFS.readTimers(pid: processID) }

    /// No kernel interface sets a timer's overrun count (docs/kernel-facts.md section 6).
    public func restoreOverrun(_ id: Int32, count: Int32) -> Bool { false }

    public func advanceTime(byNanoseconds nanoseconds: Int64) {
        HostKernel.sleep(nanoseconds: nanoseconds)
    }
}
