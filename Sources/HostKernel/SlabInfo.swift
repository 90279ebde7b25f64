#if canImport(Glibc)
import Glibc
#endif
import TimerCore
import TimerFormats

/// This host's slab caches as /sys/kernel/slab shows them (SLUB): the object
/// sizes behind `timer-criu memory` and the object counts its host test
/// watches grow (docs/memory.md).
public enum SlabInfo {
    public static let root = "/sys/kernel/slab"

    /// `object_size` of a cache (sizeof the struct), nil when unreadable.
    public static func objectSize(_ cache: String, root: String = root) -> Int? {
        number(root + "/" + cache + "/object_size")
    }

    /// `objects`: objects allocated in the cache's slabs right now (SLUB
    /// counts whole slabs, so this moves in steps of objects-per-slab).
    public static func objects(_ cache: String, root: String = root) -> Int? {
        guard let text = SmallFile.read(root + "/" + cache + "/objects") else { return nil }
        // "10143 N0=10143": the total, then per node.
        return text.split(whereSeparator: { $0 == " " || $0 == "\n" }).first.flatMap { Int($0) }
    }

    /// `objs_per_slab`: the step `objects` moves in.
    public static func objectsPerSlab(_ cache: String, root: String = root) -> Int? {
        number(root + "/" + cache + "/objs_per_slab")
    }

    /// The slab sizes of timers on this host, each figure read where the
    /// cache exists and the documented default where not. The 2.6 idr_layer
    /// is never on a current kernel: always the computed 544.
    public static func timerObjectSizes(root: String = root) -> SlabObjectSizes {
        let defaults = SlabObjectSizes.documented
        let kItimer = objectSize("posix_timers_cache", root: root)
        let sigqueue = objectSize("sigqueue", root: root)
        let node = objectSize("radix_tree_node", root: root)
        let read = [kItimer, sigqueue, node].compactMap { $0 }.count
        let source: String
        switch read {
        case 3: source = "\(root)/*/object_size on this host (Linux \(HostKernel.release))"
        case 0: source = defaults.source + " (\(root) not readable here)"
        default: source = "\(root) where readable on this host (Linux \(HostKernel.release)), else documented defaults"
        }
        return SlabObjectSizes(kItimer: kItimer ?? defaults.kItimer, sigqueue: sigqueue ?? defaults.sigqueue,
                               xarrayNode: node ?? defaults.xarrayNode, idrLayer: defaults.idrLayer, source: source)
    }

    /// CPUs the kernel sized per-CPU tables for: /sys/devices/system/cpu/possible ("0-1" = 2).
    public static func possibleCPUs(path: String = "/sys/devices/system/cpu/possible") -> Int? {
        guard let text = SmallFile.read(path) else { return nil }
        var count = 0
        for range in text.split(whereSeparator: { $0 == "\n" }).first?.split(separator: ",") ?? [] {
            let ends = range.split(separator: "-").compactMap { Int($0) }
            if ends.count == 2, ends[1] >= ends[0] { count += ends[1] - ends[0] + 1 }
            else if ends.count == 1 { count += 1 }
            else { return nil }
        }
        return count > 0 ? count : nil
    }

    static func number(_ path: String) -> Int? {
        SmallFile.read(path).flatMap { text in text.split(separator: "\n").first.flatMap { Int($0) } }
    }
}

extension HostKernel {
    /// This user's RLIMIT_SIGPENDING soft limit: how many timers (each holds a
    /// sigqueue) all of the user's processes may have together. nil = unlimited.
    public static var sigpendingLimit: Int? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(__RLIMIT_SIGPENDING.rawValue), &limit) == 0,
              limit.rlim_cur != rlim_t.max else { return nil }
        return Int(limit.rlim_cur)
    }
}
