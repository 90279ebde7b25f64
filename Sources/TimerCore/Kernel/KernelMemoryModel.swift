/// How a kernel finds a POSIX timer by its ID, the one thing the 2023
/// "posix-timers: CRIU woes" thread argued about in bytes (docs/memory.md).
public enum TimerIDIndex: String, CaseIterable, Sendable {
    /// Linux 3.10 to today: one hash table for the whole machine, sized once
    /// at boot, keyed by (signal_struct, ID). IDs cost nothing.
    case globalHash = "global-hash"
    /// The dense-ID proposal: an xarray per process (lib/xarray.c), 64 slots
    /// a node; its nodes depend on which IDs are used.
    case perProcessXArray = "per-process-xarray"
    /// Linux 2.6 (before 3.10): one IDR for the whole machine (lib/idr.c).
    case globalIDR = "global-idr"
}

/// The hash a global-hash kernel puts (signal_struct, ID) through.
public enum TimerHashFunction: Sendable, Equatable {
    /// kernel/time/posix-timers.c 3.10 to 6.14:
    /// `hash_32(hash32_ptr(sig) ^ id, 9)`, 512 static buckets. `multiplier`
    /// is include/linux/hash.h's: GOLDEN_RATIO_PRIME_32 0x9e370001 before
    /// 4.7, GOLDEN_RATIO_32 0x61C88647 from 4.7.
    case hash32(multiplier: UInt32, bits: Int)
    /// 6.15 and later: `jhash2((u32 *)&sig, 2, id) & mask` over
    /// roundup_pow_of_two(512 * num_possible_cpus()) buckets sized at boot.
    case jhash2(buckets: Int)

    public static let goldenRatioPrime32: UInt32 = 0x9e37_0001
    public static let goldenRatio32: UInt32 = 0x61C8_8647

    /// Buckets of the 6.15+ table for this many possible CPUs (posixtimer_init).
    public static func jhash2Buckets(possibleCPUs: Int) -> Int {
        var size = 1
        while size < 512 * max(possibleCPUs, 1) { size <<= 1 }
        return size
    }

    public var bucketCount: Int {
        switch self {
        case .hash32(_, let bits): return 1 << bits
        case .jhash2(let buckets): return buckets
        }
    }

    /// The bucket of (signal_struct at `signalStruct`, `id`).
    public func bucket(signalStruct: UInt64, id: Int32) -> Int {
        switch self {
        case .hash32(let multiplier, let bits):
            let key = TimerHash.hash32Pointer(signalStruct) ^ UInt32(bitPattern: id)
            return Int((key &* multiplier) >> UInt32(32 - bits))
        case .jhash2(let buckets):
            let words = [UInt32(truncatingIfNeeded: signalStruct), UInt32(truncatingIfNeeded: signalStruct >> 32)]
            return Int(TimerHash.jhash2(words, initval: UInt32(bitPattern: id)) & UInt32(buckets - 1))
        }
    }

    /// "hash_32 (0x9e370001), 512 buckets".
    public var summary: String {
        switch self {
        case .hash32(let multiplier, let bits):
            let name = multiplier == TimerHashFunction.goldenRatioPrime32 ? "GOLDEN_RATIO_PRIME_32" : "GOLDEN_RATIO_32"
            return "hash_32 (\(name)), \(1 << bits) buckets"
        case .jhash2(let buckets): return "jhash2, \(buckets) buckets"
        }
    }
}

/// What one kernel holds in memory for its POSIX timers: which ID index,
/// and whether each timer's sigqueue is a separate slab object.
public struct KernelMemoryModel: Sendable, Equatable {
    public var index: TimerIDIndex
    /// Before 6.13 every timer preallocated a `struct sigqueue` from the
    /// sigqueue slab (alloc_posix_timer: sigqueue_alloc()); from 6.13
    /// ("posix-timers: Embed sigqueue in struct k_itimer") it is part of the
    /// k_itimer.
    public var separateSigqueue: Bool
    /// The (signal_struct, ID) hash: global-hash kernels only.
    public var hash: TimerHashFunction?

    public init(index: TimerIDIndex, separateSigqueue: Bool, hash: TimerHashFunction? = nil) {
        self.index = index
        self.separateSigqueue = separateSigqueue
        self.hash = hash
    }

    /// The same objects and index (the lookup's hash may differ).
    public func sameMemory(as other: KernelMemoryModel) -> Bool {
        index == other.index && separateSigqueue == other.separateSigqueue
    }
}

/// Object sizes of the slabs timers are made of, in bytes.
public struct SlabObjectSizes: Sendable, Equatable {
    /// `posix_timers_cache`: sizeof(struct k_itimer).
    public var kItimer: Int
    /// `sigqueue`: sizeof(struct sigqueue).
    public var sigqueue: Int
    /// `radix_tree_node`: sizeof(struct xa_node), the xarray's node.
    public var xarrayNode: Int
    /// `idr_layer_cache` of Linux 2.6.27-2.6.39 x86-64: sizeof(struct
    /// idr_layer) = bitmap 8 + ary[64] 512 + count 4 + layer 4 + rcu_head 16.
    public var idrLayer: Int
    /// Where the figures come from, for the table's foot.
    public var source: String

    public init(kItimer: Int, sigqueue: Int, xarrayNode: Int, idrLayer: Int, source: String) {
        self.kItimer = kItimer
        self.sigqueue = sigqueue
        self.xarrayNode = xarrayNode
        self.idrLayer = idrLayer
        self.source = source
    }

    /// Measured on this project's host, Linux 6.18 x86-64 (/sys/kernel/slab/*/object_size,
    /// docs/memory.md); the idr_layer from the 2.6 struct.
    public static let documented = SlabObjectSizes(kItimer: 384, sigqueue: 80, xarrayNode: 576, idrLayer: 544,
                                                   source: "documented defaults, Linux 6.18 x86-64")

    /// Bytes one timer costs besides the index.
    public func timerBytes(_ model: KernelMemoryModel) -> Int {
        kItimer + (model.separateSigqueue ? sigqueue : 0)
    }

    public func nodeBytes(_ index: TimerIDIndex) -> Int {
        switch index {
        case .globalHash: return 0
        case .perProcessXArray: return xarrayNode
        case .globalIDR: return idrLayer
        }
    }
}
