#if canImport(Glibc)
import Glibc
#endif
import CTimerInject
import TimerCore

/// Syscalls for a live process to make itself, many in one stop (the
/// CTimerInject engine, docs/restore-into.md): any syscall number, six
/// arguments each either a plain value or the address of an argument block,
/// and the blocks copied back afterwards (what the syscalls wrote).
///
///     var batch = SyscallBatch()
///     let slot = batch.block(bytes: 32)                       // struct itimerspec
///     let get = batch.add(SYS_timer_gettime, [.value(7), .block(slot)])
///     try InjectionSession.runOnce(pid: 1234, &batch)
///     batch.result(get)                                       // 0, or -errno, nil if not run
///     batch.load(Int64.self, at: slot + 16)                   // it_value.tv_sec
public struct SyscallBatch {
    public enum Argument {
        case value(UInt64)
        /// The address, in the target, of the block at this offset (`block`).
        case block(Int)
        /// What call `index` of this batch returned, at most 255 calls
        /// before (first argument only): the fd a timerfd_create made, for
        /// the dup3 and close that move it, in the same stop.
        case result(ofCall: Int)

        public static func int(_ value: Int64) -> Argument { .value(UInt64(bitPattern: value)) }
    }

    public private(set) var calls: [tc_call] = []
    public var data: [UInt8] = []

    public init() {}

    public var count: Int { calls.count }

    /// Reserves `bytes` zeroed bytes of argument block (8-byte aligned); returns its offset.
    public mutating func block(bytes: Int) -> Int {
        let offset = (data.count + 7) & ~7
        data.append(contentsOf: repeatElement(0, count: offset + bytes - data.count))
        return offset
    }

    /// An argument block holding the bytes of `value`; returns its offset.
    public mutating func block<T>(_ value: T) -> Int {
        let offset = block(bytes: MemoryLayout<T>.size)
        data.withUnsafeMutableBytes { $0.storeBytes(of: value, toByteOffset: offset, as: T.self) }
        return offset
    }

    /// Appends syscall `number(arguments)`; returns its index for `result`.
    /// - Parameters:
    ///   - stopOnError: if it fails, the following calls are skipped up to the next `finally` one.
    ///   - finally: made even while skipping.
    @discardableResult
    public mutating func add(_ number: Int, _ arguments: [Argument], stopOnError: Bool = false,
                             finally: Bool = false) -> Int {
        precondition(arguments.count <= 6, "a syscall has at most six arguments")
        var call = tc_call()
        call.nr = Int32(number)
        var flags: UInt32 = (stopOnError ? 1 : 0) | (finally ? 2 : 0)
        var args: [UInt64] = [0, 0, 0, 0, 0, 0]
        for (index, argument) in arguments.enumerated() {
            switch argument {
            case .value(let value): args[index] = value
            case .block(let offset):
                args[index] = UInt64(offset)
                flags |= 1 << (8 + UInt32(index))
            case .result(let call):
                let back = calls.count - call
                precondition(index == 0 && back >= 1 && back <= 255, "a result argument is the first, of one of the 255 calls before")
                flags |= UInt32(back) << 16
            }
        }
        call.flags = flags
        call.args = (args[0], args[1], args[2], args[3], args[4], args[5])
        call.result = 0
        calls.append(call)
        return calls.count - 1
    }

    /// What call `index` returned (>= 0, or -errno), nil if it was not made.
    public func result(_ index: Int) -> Int64? {
        let value = calls[index].result
        return value == Int64.min ? nil : value
    }

    /// A value of an argument block after the run.
    public func load<T>(_ type: T.Type, at offset: Int) -> T {
        data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }

    mutating func withBuffers<R>(_ body: (UnsafeMutablePointer<tc_call>?, Int32, UnsafeMutableRawPointer?, Int) -> R) -> R {
        let count = Int32(calls.count)
        return calls.withUnsafeMutableBufferPointer { callBuffer in
            data.withUnsafeMutableBytes { dataBuffer in
                body(callBuffer.baseAddress, count, dataBuffer.baseAddress, dataBuffer.count)
            }
        }
    }
}

/// A live process held for injection: its thread `pid` seized and stopped,
/// its registers, mask and stack bytes saved, until `close()`. Every `run`
/// is one stop. Make every call from the thread that opened it (ptrace
/// belongs to the tracing thread). If the tool dies, the kernel detaches and
/// the rt_sigreturn safety frame gives the target its own state back
/// (docs/restore-into.md says what is left).
public final class InjectionSession {
    public let pid: Int32
    private var session: OpaquePointer?

    /// - Parameter requireFrame: refuse a target where no safety frame can be
    ///   built (a shadow stack, no signal restorer): what restore --into asks.
    public init(pid: Int32, requireFrame: Bool = true, timeoutSeconds: UInt32 = 10) throws(PtraceError) {
        self.pid = pid
        var report = tc_inject_report()
        session = tc_session_open(pid, requireFrame ? 1 : 0, timeoutSeconds, &report)
        if session == nil { throw TimerValueReader.error(stage: report.stage, report: report, pid: pid) }
    }

    deinit { _ = try? close() }

    /// Runs `batch` in the target in one stop; its results and blocks are filled in.
    public func run(_ batch: inout SyscallBatch) throws(PtraceError) {
        guard let session else { throw .injectionFailed(pid: pid, reason: "the injection session is closed") }
        let stage = batch.withBuffers { calls, count, data, length in tc_session_run(session, calls, count, data, length) }
        if stage != 0 {
            var report = tc_inject_report()
            tc_session_get_report(session, &report)
            throw TimerValueReader.error(stage: stage, report: report, pid: pid)
        }
    }

    /// What the session did so far (its batches: one stop each).
    public var report: InjectionReport {
        var report = tc_inject_report()
        if let session { tc_session_get_report(session, &report) }
        return InjectionReport(report)
    }

    /// Puts everything back and detaches (the scratch mappings are unmapped first).
    @discardableResult
    public func close() throws(PtraceError) -> InjectionReport {
        guard let open = session else { return InjectionReport(tc_inject_report()) }
        session = nil
        var report = tc_inject_report()
        let stage = tc_session_close(open, &report)
        if stage != 0 { throw TimerValueReader.error(stage: stage, report: report, pid: pid) }
        return InjectionReport(report)
    }

    /// Open, run, close in a forked worker (as dump --values): killing the
    /// caller, even by SIGKILL, cannot interrupt it.
    @discardableResult
    public static func runOnce(pid: Int32, _ batch: inout SyscallBatch, inProcess: Bool = false,
                               timeoutSeconds: UInt32 = 10) throws(PtraceError) -> InjectionReport {
        var report = tc_inject_report()
        let stage = batch.withBuffers { calls, count, data, length in
            tc_inject_batch(pid, calls, count, data, length, &report, inProcess ? 0 : 1, timeoutSeconds)
        }
        if stage != 0 { throw TimerValueReader.error(stage: stage, report: report, pid: pid) }
        return InjectionReport(report)
    }

    /// Seizes and stops one more thread (tc_thread_stop): it stays stopped
    /// until `resume`, or until the caller dies (the kernel detaches it).
    public static func stopThread(_ tid: Int32, timeoutSeconds: UInt32 = 10) throws(PtraceError) {
        var report = tc_inject_report()
        let stage = tc_thread_stop(tid, timeoutSeconds, &report)
        if stage != 0 { throw TimerValueReader.error(stage: stage, report: report, pid: tid) }
    }

    /// PTRACE_DETACH of a thread stopped by `stopThread`.
    public static func resumeThread(_ tid: Int32) {
        _ = tc_thread_resume(tid)
    }
}

extension InjectionReport {
    init(_ report: tc_inject_report) {
        self.init(windowNanoseconds: report.window_nanoseconds, syscallAddress: report.syscall_address,
                  scratchAddress: report.scratch_address, workerPID: report.worker_pid,
                  extraStops: report.extra_stops, redeliveredSignals: report.redelivered_signals,
                  sigreturnFrame: report.sigreturn_frame != 0)
        batches = report.batches
    }
}
