#if canImport(Glibc)
import Glibc
#endif
import SystemPackage
import TimerComparison
import TimerCore
import TimerFormats

/// Times the raw timer syscalls on the host (`timer-criu calibrate`): the
/// figures `compare` projects real restore times with (docs/compare.md).
///
/// Runs in the calling process with `liveTimers` other timers alive (create
/// cost grows with live timers, docs/kernel-facts.md section 2). Every timer it
/// creates is deleted and create-at-ID mode is switched off again before it
/// returns, also when it fails. Each figure is the median over `rounds` of the
/// mean over `iterations` calls.
public enum Calibration {
    public struct Options: Sendable {
        public var iterations: Int
        public var rounds: Int
        public var liveTimers: Int

        public init(iterations: Int = 20_000, rounds: Int = 7, liveTimers: Int = 1_000) {
            self.iterations = iterations
            self.rounds = rounds
            self.liveTimers = liveTimers
        }
    }

    /// Why calibration stopped (its timers are gone by then).
    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public var message: String
        /// The syscall that failed, if one did.
        public var errno: KernelErrno?
        public var description: String { message }
    }

    /// Creates are timed in batches of at most this many, deleted after each
    /// batch, so the live count stays between liveTimers and liveTimers + batch.
    static let batch = 1_000
    /// Where create-at-ID puts its timers: far above the counter's IDs.
    static let createAtIDBase: Int32 = 1 << 30

    public static func measure(_ options: Options = Options(),
                               progress: ((String) -> Void)? = nil) throws(Failure) -> SyscallCosts {
        var run = Run(options: options)
        defer { run.cleanUp() }
        try run.createLiveTimers()
        _ = try run.pairs(count: min(options.iterations, 1_000))  // warm up caches and the slab; the figure is dropped
        var figures: [String: [Double]] = [:]
        for round in 1...max(1, options.rounds) {
            progress?("round \(round) of \(options.rounds)")
            figures["create_delete_pair", default: []].append(try run.pairs(count: options.iterations))
            let (create, delete) = try run.createsThenDeletes(count: options.iterations, atID: false)
            figures["create", default: []].append(create)
            figures["delete", default: []].append(delete)
            let (createAtID, _) = try run.createsThenDeletes(count: options.iterations, atID: true)
            figures["create_at_id", default: []].append(createAtID)
            figures["settime", default: []].append(try run.settimes(count: options.iterations))
            figures["prctl", default: []].append(try run.prctls(count: options.iterations))
            figures["sysctl_write", default: []].append(try run.procWrites(count: options.iterations))
        }
        func median(_ name: String) -> Double {
            let sorted = (figures[name] ?? [0]).sorted()
            return sorted[sorted.count / 2]
        }
        let release = HostKernel.release
        return SyscallCosts(
            createDeletePair: median("create_delete_pair"), create: median("create"),
            createAtID: median("create_at_id"), delete: median("delete"), settime: median("settime"),
            prctl: median("prctl"), sysctlWrite: median("sysctl_write"), kernel: release,
            liveTimers: options.liveTimers,
            source: "timer-criu calibrate on Linux \(release): median of \(max(1, options.rounds)) rounds x "
                + "\(options.iterations) calls, wall time, \(options.liveTimers) live timers; create_delete_pair from real host dances in a fresh helper; sysctl_write is a "
                + "write to /proc/self/timerslack_ns (no kernel has the cursor sysctl)")
    }

    /// The state of one calibration: what must be undone.
    struct Run {
        let options: Options
        var live: [Int32] = []
        /// Timers of the batch being timed.
        var batchIDs: [Int32] = []
        var restoreIDsOn = false
        var procFD: FileDescriptor?

        init(options: Options) {
            self.options = options
            batchIDs.reserveCapacity(Calibration.batch)
        }

        mutating func cleanUp() {
            for id in batchIDs { try? TimerSyscalls.delete(id) }
            for id in live { try? TimerSyscalls.delete(id) }
            batchIDs.removeAll()
            live.removeAll()
            if restoreIDsOn {
                _ = try? TimerSyscalls.restoreIDs(.off)
                restoreIDsOn = false
            }
            if let fd = procFD { _ = try? fd.close(); procFD = nil }
        }

        /// timer_create(CLOCK_MONOTONIC, SIGEV_NONE): never fires, holds a sigqueue like any timer.
        @inline(__always)
        func create(wanted: Int32 = 0) throws(Failure) -> Int32 {
            do {
                return try TimerSyscalls.create(clock: .monotonic, notify: .none, idBuffer: wanted)
            } catch let e {
                let why = e == .EAGAIN ? "RLIMIT_SIGPENDING reached: other processes of this user hold timers; try later"
                    : e == .EBUSY ? "ID already in use" : e.message
                throw Failure(message: "timer_create(\(wanted != 0 ? "id=\(wanted)" : "")): \(e.name): \(why)", errno: e)
            }
        }

        @inline(__always)
        func delete(_ id: Int32) throws(Failure) {
            do { try TimerSyscalls.delete(id) } catch let e {
                throw Failure(message: "timer_delete(id=\(id)): \(e.name): \(e.message)", errno: e)
            }
        }

        mutating func createLiveTimers() throws(Failure) {
            live.reserveCapacity(options.liveTimers)
            for _ in 0..<options.liveTimers { live.append(try create()) }
        }

        /// Mean ns of a create+delete pair (a dance step).
        mutating func pairs(count: Int) throws(Failure) -> Double {
            let start = Calibration.now()
            for _ in 0..<count {
                let id = try create()
                try delete(id)
            }
            return Double(Calibration.now() - start) / Double(max(count, 1))
        }

        /// Mean ns of a create (plain or at an ID) and of a delete, timed in batches.
        mutating func createsThenDeletes(count: Int, atID: Bool) throws(Failure) -> (create: Double, delete: Double) {
            if atID {
                do { try TimerSyscalls.restoreIDs(.on) } catch let e {
                    throw Failure(message: "prctl(PR_TIMER_CREATE_RESTORE_IDS, ON): \(e.name): "
                        + (e == .EINVAL ? "this kernel has no create-at-ID (needs Linux 6.15+)" : e.message), errno: e)
                }
                restoreIDsOn = true
            }
            var createNanoseconds: Int64 = 0
            var deleteNanoseconds: Int64 = 0
            var done = 0
            while done < count {
                let size = min(Calibration.batch, count - done)
                var start = Calibration.now()
                for i in 0..<size {
                    batchIDs.append(try create(wanted: atID ? Calibration.createAtIDBase + Int32(i) : 0))
                }
                createNanoseconds += Calibration.now() - start
                start = Calibration.now()
                for id in batchIDs { try delete(id) }
                deleteNanoseconds += Calibration.now() - start
                batchIDs.removeAll(keepingCapacity: true)
                done += size
            }
            if atID {
                _ = try? TimerSyscalls.restoreIDs(.off)
                restoreIDsOn = false
            }
            let n = Double(max(count, 1))
            return (Double(createNanoseconds) / n, Double(deleteNanoseconds) / n)
        }

        /// Mean ns of a timer_settime arming one live timer (an hour or two ahead: it never fires).
        mutating func settimes(count: Int) throws(Failure) -> Double {
            let id = try create()
            batchIDs.append(id)
            let hour = TimerValue(valueNanoseconds: 3600 * 1_000_000_000, intervalNanoseconds: 0)
            let twoHours = TimerValue(valueNanoseconds: 7200 * 1_000_000_000, intervalNanoseconds: 0)
            let start = Calibration.now()
            for i in 0..<count {
                do { try TimerSyscalls.settime(id, i & 1 == 0 ? hour : twoHours) } catch let e {
                    throw Failure(message: "timer_settime(id=\(id)): \(e.name): \(e.message)", errno: e)
                }
            }
            let elapsed = Calibration.now() - start
            try delete(id)
            batchIDs.removeAll(keepingCapacity: true)
            return Double(elapsed) / Double(max(count, 1))
        }

        /// Mean ns of one prctl(PR_TIMER_CREATE_RESTORE_IDS) switching the mode.
        mutating func prctls(count: Int) throws(Failure) -> Double {
            let start = Calibration.now()
            for _ in 0..<count {
                restoreIDsOn = true
                let on = Result { () throws(KernelErrno) in try TimerSyscalls.restoreIDs(.on) }
                let off = Result { () throws(KernelErrno) in try TimerSyscalls.restoreIDs(.off) }
                restoreIDsOn = false
                if case .failure(let e) = on.flatMap({ _ in off }) {
                    throw Failure(message: "prctl(PR_TIMER_CREATE_RESTORE_IDS): \(e.name): \(e.message)", errno: e)
                }
            }
            return Double(Calibration.now() - start) / Double(max(2 * count, 1))
        }

        /// Mean ns of writing an integer to a /proc file, standing in for the
        /// never-merged cursor sysctl: /proc/self/timerslack_ns gets its own
        /// current value back, so nothing changes.
        mutating func procWrites(count: Int) throws(Failure) -> Double {
            let path = "/proc/self/timerslack_ns"
            func failure(_ call: String, _ error: any Error) -> Failure {
                let e = KernelErrno(thrown: error)
                return Failure(message: "\(call)(\(path)): \(e.name): \(e.message)", errno: e)
            }
            let fd: FileDescriptor
            if let open = procFD {
                fd = open
            } else {
                do { fd = try FileDescriptor.open(FilePath(path), .readWrite, options: .closeOnExec) } catch {
                    throw failure("open", error)
                }
                procFD = fd
            }
            var current = [UInt8](repeating: 0, count: 32)
            let length: Int
            do { length = try current.withUnsafeMutableBytes { try fd.read(fromAbsoluteOffset: 0, into: $0) } } catch {
                throw failure("read", error)
            }
            guard length > 0 else { throw Failure(message: "read(\(path)): empty", errno: nil) }
            let value = Array(current[0..<length])
            let start = Calibration.now()
            for _ in 0..<count {
                // write(), not pwrite(): procfs files refuse positioned writes (ESPIPE).
                do { _ = try value.withUnsafeBytes { try fd.write($0) } } catch { throw failure("write", error) }
            }
            return Double(Calibration.now() - start) / Double(max(count, 1))
        }
    }

    /// Wall time (CLOCK_MONOTONIC): what a real restore takes, the figure
    /// projections stand for. Thread CPU time leaves out the time the kernel
    /// spends elsewhere for the calls, and came out 2.4x too low for a dance
    /// (734 ns against 1.7-1.8 us of wall time per pair).
    @inline(__always)
    static func now() -> Int64 { HostKernel.clockNow(.monotonic) }
}
