/// Node counts of the 64-way radix trees behind the xarray and the 2.6 IDR,
/// computed from the IDs alone (docs/memory.md).
///
/// Both trees have 64 slots a node (XA_CHUNK_SHIFT 6 in include/linux/xarray.h;
/// IDR_BITS 6 on 64-bit in 2.6's include/linux/idr.h), are exactly as tall as
/// the highest ID needs, and hold one node per used 64-ID block at each level:
/// a node at level l (shift 6l) covers the IDs with the same `id >> (6l + 6)`.
public enum RadixIndex {
    public static let chunkShift = 6

    /// Levels needed so that `maxID` < 64^levels (at least 1).
    static func levels(forMaxID maxID: Int64) -> Int {
        var levels = 1
        while levels * chunkShift < 63, maxID >> Int64(levels * chunkShift) != 0 { levels += 1 }
        return levels
    }

    /// Height of an xarray holding these IDs: 0 when empty or when the only
    /// entry is index 0. lib/xarray.c xas_expand(): with an empty head and
    /// max index 0 it returns shift 0 and xas_create() stores the entry in
    /// xa_head itself, no node. Any other index, even alone, is reached
    /// through nodes: xas_expand() returns the shift of a top node tall enough
    /// for it and xas_create() allocates one node per level on its path.
    public static func xarrayHeight(sortedIDs ids: [Int64]) -> Int {
        guard let maxID = ids.last, maxID > 0 else { return 0 }
        return levels(forMaxID: maxID)
    }

    /// Height of a 2.6 IDR holding these IDs: 0 when empty, else at least one
    /// layer (idr_get_empty_slot() always takes a leaf layer for the first ID).
    public static func idrHeight(sortedIDs ids: [Int64]) -> Int {
        guard let maxID = ids.last else { return 0 }
        return levels(forMaxID: maxID)
    }

    /// Nodes of a tree of `height` levels holding `ids` (sorted, distinct).
    public static func nodes(sortedIDs ids: [Int64], height: Int) -> Int {
        var total = 0
        for level in 0..<height {
            let shift = Int64((level + 1) * chunkShift)
            var previous: Int64 = -1
            for id in ids {
                let block = id >> shift
                if block != previous { total += 1; previous = block }
            }
        }
        return total
    }

    public static func xarrayNodes(sortedIDs ids: [Int64]) -> Int {
        nodes(sortedIDs: ids, height: xarrayHeight(sortedIDs: ids))
    }

    public static func idrLayers(sortedIDs ids: [Int64]) -> Int {
        nodes(sortedIDs: ids, height: idrHeight(sortedIDs: ids))
    }

    /// The IDs sorted, duplicates dropped.
    public static func sortedDistinct<S: Sequence>(_ ids: S) -> [Int64] where S.Element == Int32 {
        var sorted = ids.map(Int64.init).sorted()
        var write = 0
        for read in sorted.indices where read == 0 || sorted[read] != sorted[read - 1] {
            sorted[write] = sorted[read]
            write += 1
        }
        sorted.removeLast(sorted.count - write)
        return sorted
    }
}

/// The hashes of kernel/time/posix-timers.c, bit for bit (include/linux/hash.h,
/// include/linux/jhash.h), so chain lengths are the kernel's.
public enum TimerHash {
    /// hash32_ptr(): a 64-bit pointer folded to 32 bits (high ^ low).
    public static func hash32Pointer(_ pointer: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: pointer ^ (pointer >> 32))
    }

    @inline(__always) static func rotateLeft(_ x: UInt32, _ k: UInt32) -> UInt32 { (x << k) | (x >> (32 - k)) }

    /// jhash2(): Bob Jenkins' lookup3 over 32-bit words, JHASH_INITVAL 0xdeadbeef.
    public static func jhash2(_ words: [UInt32], initval: UInt32) -> UInt32 {
        var a = 0xdead_beef &+ (UInt32(words.count) << 2) &+ initval
        var b = a, c = a
        var k = words[...]
        while k.count > 3 {
            a &+= k[k.startIndex]; b &+= k[k.startIndex + 1]; c &+= k[k.startIndex + 2]
            // __jhash_mix
            a &-= c; a ^= rotateLeft(c, 4); c &+= b
            b &-= a; b ^= rotateLeft(a, 6); a &+= c
            c &-= b; c ^= rotateLeft(b, 8); b &+= a
            a &-= c; a ^= rotateLeft(c, 16); c &+= b
            b &-= a; b ^= rotateLeft(a, 19); a &+= c
            c &-= b; c ^= rotateLeft(b, 4); b &+= a
            k = k.dropFirst(3)
        }
        if k.isEmpty { return c }
        if k.count == 3 { c &+= k[k.startIndex + 2] }
        if k.count >= 2 { b &+= k[k.startIndex + 1] }
        a &+= k[k.startIndex]
        // __jhash_final
        c ^= b; c &-= rotateLeft(b, 14)
        a ^= c; a &-= rotateLeft(c, 11)
        b ^= a; b &-= rotateLeft(a, 25)
        c ^= b; c &-= rotateLeft(b, 16)
        a ^= c; a &-= rotateLeft(c, 4)
        b ^= a; b &-= rotateLeft(a, 14)
        c ^= b; c &-= rotateLeft(b, 24)
        return c
    }
}

/// How long the hash chains of one process's timers are.
public struct HashChains: Sendable, Equatable {
    public var buckets: Int
    /// Buckets holding at least one of the timers.
    public var usedBuckets: Int
    public var longest: Int
    /// The chain a lookup of one of the timers walks, averaged over the
    /// timers: sum of length^2 / timers (1.0 = no collisions).
    public var meanWalked: Double

    public static func of(ids: [Int32], hash: TimerHashFunction, signalStruct: UInt64) -> HashChains {
        of(keys: ids.map { (signalStruct, $0) }, hash: hash)
    }
}

extension HashChains {
    /// Chains of timers of several processes on one table.
    public static func of(keys: [(signalStruct: UInt64, id: Int32)], hash: TimerHashFunction) -> HashChains {
        var counts: [Int: Int] = [:]
        for key in keys { counts[hash.bucket(signalStruct: key.signalStruct, id: key.id), default: 0] += 1 }
        let squares = counts.values.reduce(0) { $0 + $1 * $1 }
        return HashChains(buckets: hash.bucketCount, usedBuckets: counts.count, longest: counts.values.max() ?? 0,
                          meanWalked: keys.isEmpty ? 0 : Double(squares) / Double(keys.count))
    }
}
