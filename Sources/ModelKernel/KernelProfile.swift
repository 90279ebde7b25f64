import TimerCore

/// The kernels the model can be (docs/kernel-facts.md sections 2 and 3).
public enum KernelProfile: String, CaseIterable, Sendable {
    /// Before 3.10: one global IDR, lowest free ID, shared by every process.
    case linux26 = "linux-2.6"
    /// 3.10 to 6.14: a per-process counter with wrap; no restore interface.
    case linux310 = "linux-3.10"
    /// 6.15 and later (the host here, 6.18): the counter plus prctl create-at-ID.
    case linux615 = "linux-6.15"
    /// The 2023 proposal: 3.10's counter plus a privileged cursor sysctl.
    case rfdCursor = "rfd-cursor"
    /// The 2023 proposal: lowest free ID per process, reusing holes, plus create-at-ID.
    case rfdDense = "rfd-dense"

    /// One line: what the profile models.
    public var summary: String {
        switch self {
        case .linux26:
            return "Linux before 3.10: one global IDR for all processes, lowest free ID first"
        case .linux310:
            return "Linux 3.10-6.14: per-process counter from 0, wraps at INT_MAX, no restore interface"
        case .linux615:
            return "Linux 6.15+ (like this host's 6.18): the counter plus prctl(PR_TIMER_CREATE_RESTORE_IDS) create-at-ID"
        case .rfdCursor:
            return "2023 proposal: 3.10's counter plus a privileged sysctl cursor setting where the counter continues"
        case .rfdDense:
            return "2023 proposal: lowest free ID per process (holes reused at once) plus create-at-ID"
        }
    }

    public var restoreInterfaces: RestoreInterfaces {
        switch self {
        case .linux26, .linux310: return []
        case .linux615, .rfdDense: return .createAtID
        case .rfdCursor: return .cursor
        }
    }

    /// Whether CRIU's create/delete dance can reach an ID: not where a deleted
    /// ID comes back at once (lowest free first, docs/kernel-facts.md section 3).
    public var danceWorks: Bool {
        switch self {
        case .linux26, .rfdDense: return false
        case .linux310, .linux615, .rfdCursor: return true
        }
    }

    /// Disarming a CPU-clock timer (timer_settime with value 0) stores the
    /// interval passed, which timer_gettime then reads back ("0 P"):
    /// posix_cpu_timer_set() before the posix-timers rework, measured on
    /// Linux 6.1 by Scripts/kernel-oracle.sh; 6.18 drops it (0 0), and so do
    /// the profiles of later kernels. hrtimer clocks drop it on both.
    var cpuTimerDisarmKeepsInterval: Bool {
        switch self {
        case .linux26, .linux310: return true
        case .linux615, .rfdCursor, .rfdDense: return false
        }
    }

    /// How timer_create picks an ID.
    enum Allocation {
        /// `next_posix_timer_id`: fetch-and-increment masked with INT_MAX.
        case counter
        /// Lowest free ID of the process.
        case lowestFreePerProcess
        /// Lowest free ID of the whole machine (the pre-3.10 global IDR).
        case lowestFreeGlobal
    }

    var allocation: Allocation {
        switch self {
        case .linux26: return .lowestFreeGlobal
        case .rfdDense: return .lowestFreePerProcess
        case .linux310, .linux615, .rfdCursor: return .counter
        }
    }

    /// The one-line allocation rule, for `kernels` and the docs.
    public var allocationRule: String {
        switch allocation {
        case .counter: return "per-process counter (next ID = counter & INT_MAX, then counter+1)"
        case .lowestFreePerProcess: return "lowest free ID of the process"
        case .lowestFreeGlobal: return "lowest free ID of the whole machine"
        }
    }
}

extension KernelProfile {
    /// How the profile's kernel indexes timer IDs and what it allocates per
    /// timer (docs/memory.md): the design -> profile mapping of `memory`.
    /// `possibleCPUs` sizes the 6.15+ hash table (the host's by default).
    public func memoryModel(possibleCPUs: Int = 2) -> KernelMemoryModel {
        switch self {
        case .linux26:
            // 2.6 kernel/posix-timers.c: idr_get_new(&posix_timers_id) and
            // sigqueue_alloc() per timer.
            return KernelMemoryModel(index: .globalIDR, separateSigqueue: true)
        case .linux310:
            // 3.10: DEFINE_HASHTABLE(posix_timers_hashtable, 9), hash_32 with
            // the pre-4.7 GOLDEN_RATIO_PRIME_32.
            return KernelMemoryModel(index: .globalHash, separateSigqueue: true,
                                     hash: .hash32(multiplier: TimerHashFunction.goldenRatioPrime32, bits: 9))
        case .rfdCursor:
            // The 2023 proposals were on 6.5-6.6 kernels: the same 512-bucket
            // table, hash_32 with GOLDEN_RATIO_32 (4.7+), a separate sigqueue.
            return KernelMemoryModel(index: .globalHash, separateSigqueue: true,
                                     hash: .hash32(multiplier: TimerHashFunction.goldenRatio32, bits: 9))
        case .linux615:
            // 6.13 embedded the sigqueue; 6.15 sized the table by CPUs and
            // switched to jhash2.
            return KernelMemoryModel(index: .globalHash, separateSigqueue: false,
                                     hash: .jhash2(buckets: TimerHashFunction.jhash2Buckets(possibleCPUs: possibleCPUs)))
        case .rfdDense:
            // Lowest free ID per process needs a per-process index: an xarray
            // on a 2023 kernel (sigqueue still separate).
            return KernelMemoryModel(index: .perProcessXArray, separateSigqueue: true)
        }
    }
}
