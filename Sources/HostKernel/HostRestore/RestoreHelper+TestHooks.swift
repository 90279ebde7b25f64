#if canImport(Glibc)
import Glibc
#endif
import CTimerSyscalls
import SystemPackage
import TimerCore

// Test hooks of the host restore, kept out of the product's code paths: the
// helper reads them from its environment, and only tests set them (they make
// a restore race or slow down on purpose).
extension RestoreHelper {
    /// Test hooks of the helper, read from its environment (inherited from
    /// the tool). Not for people: they make a restore fail on purpose.
    public struct DebugHooks: Sendable, Equatable {
        /// TIMER_CRIU_DEBUG_RACING_THREADS=N (at most 8): N threads of the
        /// helper create plain timers while the restore runs (a racing
        /// thread must not take a wanted ID).
        public var racingThreads = 0
        /// TIMER_CRIU_DEBUG_CREATE_DELAY_US=N (at most 100,000): sleep before
        /// each timer_create, so a short restore can be interrupted half way.
        public var createDelayMicroseconds: UInt32 = 0

        public static let racingThreadsVariable = "TIMER_CRIU_DEBUG_RACING_THREADS"
        public static let createDelayVariable = "TIMER_CRIU_DEBUG_CREATE_DELAY_US"

        public static func fromEnvironment() -> DebugHooks {
            func number(_ name: String) -> Int? { getenv(name).flatMap { Int(String(cString: $0)) } }
            var hooks = DebugHooks()
            hooks.racingThreads = min(max(number(racingThreadsVariable) ?? 0, 0), 8)
            hooks.createDelayMicroseconds = UInt32(min(max(number(createDelayVariable) ?? 0, 0), 100_000))
            return hooks
        }
    }
}

/// Threads that create plain timers while the restore runs: the race the
/// 2023 kernel discussion warned about. While create-at-ID mode is on, the
/// kernel reads every timer_create's ID buffer, also other threads' (the mode
/// is per process, docs/kernel-facts.md section 3), so a racing create can take a
/// wanted ID (the restore's own create then gets EBUSY) or add a timer the
/// checkpoint does not have (verification then reports it). Bounded: 50
/// SIGEV_NONE creates per thread, every other one at a wanted ID (highest
/// first), the others just above the checkpoint's highest ID. `start`
/// returns once every thread made its first create, so the race is sure to
/// overlap the restore (else a fast restore could end before they ran).
enum RacingThreads {
    static let createsPerThread = 50

    static func start(_ count: Int, wantedIDs: [Int32]) {
        guard count > 0 else { return }
        var gate: [Int32] = [0, 0]
        var ready: [Int32] = [0, 0]
        guard tc_pipe_cloexec(&gate) == 0 else { return }
        guard tc_pipe_cloexec(&ready) == 0 else { close(gate[0]); close(gate[1]); return }
        let wanted = wantedIDs.isEmpty ? [0] : wantedIDs.sorted(by: >)
        let above = (wanted.first ?? 0) < Int32.max - 1000 ? (wanted.first ?? 0) + 1 : 0
        var started = 0
        for thread in 0..<count {
            var buffers: [Int32] = []
            for i in 0..<createsPerThread {
                buffers.append(i % 2 == 0 ? wanted[(i / 2 + thread) % wanted.count] : above + Int32(thread * createsPerThread + i))
            }
            let box = Unmanaged.passRetained(RacingBox(gate: gate[0], ready: ready[1], buffers: buffers)).toOpaque()
            var handle = pthread_t()
            let rc = pthread_create(&handle, nil, { raw in
                let box = Unmanaged<RacingBox>.fromOpaque(raw!).takeRetainedValue()
                var byte: UInt8 = 0
                _ = withUnsafeMutableBytes(of: &byte) { try? FileDescriptor(rawValue: box.gate).read(into: $0) }  // EOF: the restore starts
                for (index, wanted) in box.buffers.enumerated() {
                    _ = try? TimerSyscalls.create(clock: .monotonic, notify: .none, idBuffer: wanted)
                    if index == 0 { _ = try? FileDescriptor(rawValue: box.ready).writeAll([1]) }
                    sched_yield()
                }
                return nil
            }, box)
            if rc == 0 {
                pthread_detach(handle)
                started += 1
            } else {
                Unmanaged<RacingBox>.fromOpaque(box).release()
            }
        }
        close(gate[1])  // wakes every racing thread at once
        var byte: UInt8 = 0
        var firstCreates = 0
        while firstCreates < started,
              withUnsafeMutableBytes(of: &byte, { try? FileDescriptor(rawValue: ready[0]).read(into: $0) }) == 1 {
            firstCreates += 1
        }
    }

    final class RacingBox {
        let gate: Int32
        let ready: Int32
        let buffers: [Int32]
        init(gate: Int32, ready: Int32, buffers: [Int32]) {
            self.gate = gate
            self.ready = ready
            self.buffers = buffers
        }
    }
}

/// A host kernel whose timer_create first sleeps (the create-delay test hook).
final class SlowCreateKernel: TimerKernel {
    let base: HostKernel
    let delay: UInt32
    init(_ base: HostKernel, delayMicroseconds: UInt32) {
        self.base = base
        delay = delayMicroseconds
    }
    var kernelName: String { base.kernelName }
    var restoreInterfaces: RestoreInterfaces { base.restoreInterfaces }
    var processID: Int32 { base.processID }
    var threadIDs: [Int32] { base.threadIDs }
    func timerCreate(clock: ClockID, sigevent: Sigevent?, idBuffer: Int32) throws(KernelErrno) -> Int32 {
        usleep(delay)
        return try base.timerCreate(clock: clock, sigevent: sigevent, idBuffer: idBuffer)
    }
    func timerDelete(_ id: Int32) throws(KernelErrno) { try base.timerDelete(id) }
    @discardableResult
    func timerSettime(_ id: Int32, absolute: Bool, _ value: TimerValue) throws(KernelErrno) -> TimerValue {
        try base.timerSettime(id, absolute: absolute, value)
    }
    func timerGettime(_ id: Int32) throws(KernelErrno) -> TimerValue { try base.timerGettime(id) }
    func timerGetoverrun(_ id: Int32) throws(KernelErrno) -> Int32 { try base.timerGetoverrun(id) }
    @discardableResult
    func prctlRestoreIDs(_ op: RestoreIDsOperation) throws(KernelErrno) -> Int32 { try base.prctlRestoreIDs(op) }
    func writeTimerIDCursor(_ id: Int32) throws(KernelErrno) { try base.writeTimerIDCursor(id) }
    func readProcTimers() throws -> [UInt8] { try base.readProcTimers() }
    func restoreOverrun(_ id: Int32, count: Int32) -> Bool { base.restoreOverrun(id, count: count) }
    func advanceTime(byNanoseconds nanoseconds: Int64) { base.advanceTime(byNanoseconds: nanoseconds) }
}
