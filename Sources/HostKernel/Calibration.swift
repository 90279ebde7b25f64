#if canImport(Glibc)
import Glibc
#endif
import CTimerSyscalls
import TimerCore
import TimerFormats
import TimerComparison

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
        var procFD: Int32 = -1

        init(options: Options) {
            self.options = options
            batchIDs.reserveCapacity(Calibration.batch)
        }

        mutating func cleanUp() {
            for id in batchIDs { _ = tc_timer_delete(id) }
            for id in live { _ = tc_timer_delete(id) }
            batchIDs.removeAll()
            live.removeAll()
            if restoreIDsOn {
                _ = tc_prctl(PR_TIMER_CREATE_RESTORE_IDS, UInt(TC_PR_TIMER_CREATE_RESTORE_IDS_OFF), 0, 0, 0)
                restoreIDsOn = false
            }
            if procFD >= 0 { close(procFD); procFD = -1 }
        }

        /// timer_create(CLOCK_MONOTONIC, SIGEV_NONE): never fires, holds a sigqueue like any timer.
        @inline(__always)
        func create(wanted: Int32 = 0) throws(Failure) -> Int32 {
            var id = wanted
            if tc_timer_create(1, 1, 1 /* SIGEV_NONE */, 0, 0, 0, &id) < 0 {
                let e = KernelErrno(rawValue: errno)
                let why = e == .EAGAIN ? "RLIMIT_SIGPENDING reached: other processes of this user hold timers; try later"
                    : e == .EBUSY ? "ID already in use" : e.message
                throw Failure(message: "timer_create(\(wanted != 0 ? "id=\(wanted)" : "")): \(e.name): \(why)", errno: e)
            }
            return id
        }

        @inline(__always)
        func delete(_ id: Int32) throws(Failure) {
            if tc_timer_delete(id) < 0 {
                let e = KernelErrno(rawValue: errno)
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
                if tc_prctl(PR_TIMER_CREATE_RESTORE_IDS, UInt(TC_PR_TIMER_CREATE_RESTORE_IDS_ON), 0, 0, 0) < 0 {
                    let e = KernelErrno(rawValue: errno)
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
                _ = tc_prctl(PR_TIMER_CREATE_RESTORE_IDS, UInt(TC_PR_TIMER_CREATE_RESTORE_IDS_OFF), 0, 0, 0)
                restoreIDsOn = false
            }
            let n = Double(max(count, 1))
            return (Double(createNanoseconds) / n, Double(deleteNanoseconds) / n)
        }

        /// Mean ns of a timer_settime arming one live timer (an hour or two ahead: it never fires).
        mutating func settimes(count: Int) throws(Failure) -> Double {
            let id = try create()
            batchIDs.append(id)
            var hour = itimerspec()
            hour.it_value.tv_sec = 3600
            var twoHours = itimerspec()
            twoHours.it_value.tv_sec = 7200
            let start = Calibration.now()
            for i in 0..<count {
                let rc = i & 1 == 0 ? tc_timer_settime(id, 0, &hour, nil) : tc_timer_settime(id, 0, &twoHours, nil)
                if rc < 0 {
                    let e = KernelErrno(rawValue: errno)
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
                let on = tc_prctl(PR_TIMER_CREATE_RESTORE_IDS, UInt(TC_PR_TIMER_CREATE_RESTORE_IDS_ON), 0, 0, 0)
                let off = tc_prctl(PR_TIMER_CREATE_RESTORE_IDS, UInt(TC_PR_TIMER_CREATE_RESTORE_IDS_OFF), 0, 0, 0)
                restoreIDsOn = false
                if on < 0 || off < 0 {
                    let e = KernelErrno(rawValue: errno)
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
            if procFD < 0 {
                procFD = open(path, O_RDWR | O_CLOEXEC)
                if procFD < 0 {
                    let e = KernelErrno(rawValue: errno)
                    throw Failure(message: "open(\(path)): \(e.name): \(e.message)", errno: e)
                }
            }
            var current = [UInt8](repeating: 0, count: 32)
            let length = current.withUnsafeMutableBytes { pread(procFD, $0.baseAddress, $0.count, 0) }
            guard length > 0 else {
                let e = KernelErrno(rawValue: errno)
                throw Failure(message: "read(\(path)): \(e.name): \(e.message)", errno: e)
            }
            let value = Array(current[0..<length])
            let start = Calibration.now()
            for _ in 0..<count {
                // write(), not pwrite(): procfs files refuse positioned writes (ESPIPE).
                let written = value.withUnsafeBytes { write(procFD, $0.baseAddress, $0.count) }
                if written < 0 {
                    let e = KernelErrno(rawValue: errno)
                    throw Failure(message: "write(\(path)): \(e.name): \(e.message)", errno: e)
                }
            }
            return Double(Calibration.now() - start) / Double(max(count, 1))
        }
    }

    /// Wall time (CLOCK_MONOTONIC): what a real restore takes, the figure
    /// projections stand for. Thread CPU time leaves out the time the kernel
    /// spends elsewhere for the calls, and came out 2.4x too low for a dance
    /// (734 ns against 1.7-1.8 us of wall time per pair).
    @inline(__always)
    static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
