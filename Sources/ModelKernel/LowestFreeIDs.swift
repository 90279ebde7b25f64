/// The allocator of the ID spaces that hand out the lowest free ID
/// (linux-2.6's global IDR, rfd-dense's per-process one).
///
/// A bitmap over [0, coverage): bit set = ID in use. The lowest free ID is
/// never above the number of live IDs, so coverage only has to follow the
/// number of live timers; IDs at or above coverage (possible only through
/// create-at-ID) are not tracked here but asked from the owner when the
/// bitmap grows over them.
struct LowestFreeIDs {
    private var words: [UInt64] = []
    /// Every word before `hint` is full.
    private var hint = 0

    static let maxWords = (Int(Int32.max) + 1) / 64

    /// The lowest ID not in use, or nil when all INT_MAX+1 IDs are. Does not
    /// mark it: the caller marks it when the create succeeds.
    mutating func lowestFree(isLive: (Int32) -> Bool) -> Int32? {
        while true {
            while hint < words.count && words[hint] == .max { hint += 1 }
            if hint < words.count {
                return Int32(hint * 64 + (~words[hint]).trailingZeroBitCount)
            }
            guard words.count < Self.maxWords else { return nil }
            grow(isLive: isLive)
        }
    }

    /// Doubles the coverage and marks the newly covered IDs that are live.
    private mutating func grow(isLive: (Int32) -> Bool) {
        let old = words.count
        let new = min(max(16, old * 2), Self.maxWords)
        words.append(contentsOf: repeatElement(0, count: new - old))
        for w in old..<new {
            var bits: UInt64 = 0
            for b in 0..<64 where isLive(Int32(w * 64 + b)) { bits |= 1 << UInt64(b) }
            words[w] = bits
        }
    }

    mutating func markUsed(_ id: Int32) {
        let w = Int(id) >> 6
        guard w < words.count else { return }
        words[w] |= 1 << UInt64(id & 63)
    }

    mutating func markFree(_ id: Int32) {
        let w = Int(id) >> 6
        guard w < words.count else { return }
        words[w] &= ~(1 << UInt64(id & 63))
        if w < hint { hint = w }
    }

    var bytes: Int { words.capacity * 8 }
}
