/// The live timers of one model process, laid out for a million timers and
/// billions of syscalls (targets: at most 150 bytes per timer, ~40 ns per
/// create+delete pair):
///
/// - struct-of-arrays slots (53 bytes per timer), dense: a deleted timer's slot
///   is filled by the last one, so slots say nothing about creation order;
///   the per-timer sequence number does, and /proc sorts by it when read;
/// - an open-addressing hash table (linear probing, backward-shift deletion,
///   no tombstones) from timer ID to slot, 8 bytes per bucket, load <= 1/2;
/// - a fast path for the dance: the newest timer stays out of the hash table
///   ("pending") until the next create, so create-at-counter followed by
///   deleting it again touches no bucket.
///
/// No allocation happens on a syscall except when a buffer doubles. A struct
/// kept in memory the owner allocates (not a class): class properties cost a
/// dynamic exclusivity check per access, which tripled the cost of a pair.
/// The owner calls `deallocate()`.
struct TimerTable {
    private(set) var count = 0
    private var capacity = 0
    /// Timers that will fire: a non-zero expiry and not SIGEV_NONE (so time
    /// can pass cheaply when none is).
    private(set) var armedCount = 0

    // Slots (struct of arrays).
    private(set) var ids: UnsafeMutablePointer<Int32>
    private(set) var clocks: UnsafeMutablePointer<Int32>
    private(set) var signals: UnsafeMutablePointer<Int32>
    /// Raw sigev_notify after validation: 0, 1, 2 or 4.
    private(set) var notifies: UnsafeMutablePointer<UInt8>
    /// Notify target: the pid, or the tid for SIGEV_THREAD_ID.
    private(set) var targets: UnsafeMutablePointer<Int32>
    private(set) var sivals: UnsafeMutablePointer<UInt64>
    /// Creation order (kernel-wide, increasing).
    private(set) var sequences: UnsafeMutablePointer<UInt64>
    /// Absolute virtual time of the next expiry; 0 = disarmed. A SIGEV_NONE
    /// timer never fires; its expiry only serves timer_gettime.
    private(set) var expiries: UnsafeMutablePointer<Int64>
    private(set) var intervals: UnsafeMutablePointer<Int64>
    var overruns: UnsafeMutablePointer<Int32>

    // Hash table: bucket = (id << 32 | slot), `empty` = free.
    private var buckets: UnsafeMutablePointer<UInt64>
    private var bucketMask: Int
    private var bucketShift: UInt32
    private var hashed = 0
    private static let empty = UInt64.max

    // The newest timer while it is not in the hash table yet (-1: none).
    private var pendingID: Int32 = -1
    private var pendingSlot = 0

    init() {
        ids = .allocate(capacity: 0)
        clocks = .allocate(capacity: 0)
        signals = .allocate(capacity: 0)
        notifies = .allocate(capacity: 0)
        targets = .allocate(capacity: 0)
        sivals = .allocate(capacity: 0)
        sequences = .allocate(capacity: 0)
        expiries = .allocate(capacity: 0)
        intervals = .allocate(capacity: 0)
        overruns = .allocate(capacity: 0)
        let initialBuckets = 16
        buckets = .allocate(capacity: initialBuckets)
        buckets.initialize(repeating: Self.empty, count: initialBuckets)
        bucketMask = initialBuckets - 1
        bucketShift = 32 - 4
    }

    func deallocate() {
        ids.deallocate(); clocks.deallocate(); signals.deallocate(); notifies.deallocate()
        targets.deallocate(); sivals.deallocate(); sequences.deallocate()
        expiries.deallocate(); intervals.deallocate(); overruns.deallocate()
        buckets.deallocate()
    }

    /// Bytes held for timers (slots and buckets), for the memory figures.
    var bytes: Int { capacity * 53 + (bucketMask + 1) * 8 }

    // MARK: Lookup

    /// The slot of live timer `id`, or -1.
    @inline(__always)
    func slot(of id: Int32) -> Int {
        if id < 0 { return -1 }                     // never live (and -1 marks "no pending")
        if id == pendingID { return pendingSlot }
        let b = bucket(of: id)
        return b < 0 ? -1 : Int(UInt32(truncatingIfNeeded: buckets[b]))
    }

    @inline(__always)
    func contains(_ id: Int32) -> Bool { slot(of: id) >= 0 }

    // MARK: Insert / remove

    /// Adds a timer (the caller has checked that `id` is not live); it
    /// becomes the pending one.
    @inline(__always)
    mutating func append(id: Int32, clock: Int32, signal: Int32, notify: UInt8, target: Int32, sival: UInt64,
                sequence: UInt64) {
        if pendingID >= 0 { hashInsert(pendingID, slot: pendingSlot) }
        if count == capacity { growSlots() }
        let s = count
        ids[s] = id
        clocks[s] = clock
        signals[s] = signal
        notifies[s] = notify
        targets[s] = target
        sivals[s] = sival
        sequences[s] = sequence
        expiries[s] = 0
        intervals[s] = 0
        overruns[s] = 0
        count = s + 1
        pendingID = id
        pendingSlot = s
    }

    /// Removes live timer `id`; false when there is none.
    @inline(__always)
    mutating func remove(_ id: Int32) -> Bool {
        if id < 0 { return false }
        if id == pendingID {
            pendingID = -1
            removeSlot(pendingSlot)
            return true
        }
        let b = bucket(of: id)
        guard b >= 0 else { return false }
        let s = Int(UInt32(truncatingIfNeeded: buckets[b]))
        hashRemove(at: b)
        removeSlot(s)
        return true
    }

    /// Moves the last slot into `s` (slots are dense).
    @inline(__always)
    private mutating func removeSlot(_ s: Int) {
        if fires(s) { armedCount -= 1 }
        let last = count - 1
        count = last
        guard s != last else { return }
        let moved = ids[last]
        ids[s] = moved
        clocks[s] = clocks[last]
        signals[s] = signals[last]
        notifies[s] = notifies[last]
        targets[s] = targets[last]
        sivals[s] = sivals[last]
        sequences[s] = sequences[last]
        expiries[s] = expiries[last]
        intervals[s] = intervals[last]
        overruns[s] = overruns[last]
        if moved == pendingID {
            pendingSlot = s
        } else {
            let b = bucket(of: moved)
            buckets[b] = Self.pack(moved, s)
        }
    }

    /// SIGEV_NONE (1) timers are never queued (common_timer_set).
    @inline(__always)
    func fires(_ s: Int) -> Bool { expiries[s] != 0 && notifies[s] != 1 }

    mutating func arm(_ s: Int, expiry: Int64, interval: Int64) {
        let before = fires(s)
        expiries[s] = expiry
        intervals[s] = interval
        if fires(s) && !before { armedCount += 1 }
    }

    /// Clears the interval; `keepExpiry` leaves the old expiry in place, as
    /// the hrtimer of a disarmed timer keeps it.
    /// `keptInterval`: what timer_gettime reads as the interval afterwards
    /// (only old kernels' CPU timers keep one, see KernelProfile).
    mutating func disarm(_ s: Int, keepExpiry: Bool = false, keptInterval: Int64 = 0) {
        if fires(s) { armedCount -= 1 }
        if !keepExpiry { expiries[s] = 0 }
        intervals[s] = keptInterval
    }

    mutating func removeAll() {
        count = 0
        armedCount = 0
        pendingID = -1
        buckets.update(repeating: Self.empty, count: bucketMask + 1)
        hashed = 0
    }

    // MARK: Hash table

    @inline(__always)
    private static func pack(_ id: Int32, _ slot: Int) -> UInt64 {
        UInt64(UInt32(bitPattern: id)) << 32 | UInt64(UInt32(truncatingIfNeeded: slot))
    }

    /// Fibonacci hashing: sequential IDs land far apart.
    @inline(__always)
    private func home(_ id: Int32) -> Int {
        Int((UInt32(bitPattern: id) &* 0x9E37_79B1) >> bucketShift)
    }

    @inline(__always)
    private func bucket(of id: Int32) -> Int {
        let key = UInt64(UInt32(bitPattern: id))
        var i = home(id)
        while true {
            let entry = buckets[i]
            if entry == Self.empty { return -1 }
            if entry >> 32 == key { return i }
            i = (i + 1) & bucketMask
        }
    }

    private mutating func hashInsert(_ id: Int32, slot: Int) {
        if (hashed + 1) * 2 > bucketMask + 1 { growBuckets() }
        var i = home(id)
        while buckets[i] != Self.empty { i = (i + 1) & bucketMask }
        buckets[i] = Self.pack(id, slot)
        hashed += 1
    }

    /// Backward-shift deletion: pull later entries of the run back into the
    /// hole while that keeps them at or after their home bucket.
    private mutating func hashRemove(at index: Int) {
        var hole = index
        var j = (index + 1) & bucketMask
        while buckets[j] != Self.empty {
            let h = home(Int32(truncatingIfNeeded: buckets[j] >> 32))
            if (j - h) & bucketMask >= (j - hole) & bucketMask {
                buckets[hole] = buckets[j]
                hole = j
            }
            j = (j + 1) & bucketMask
        }
        buckets[hole] = Self.empty
        hashed -= 1
    }

    private mutating func growBuckets() {
        let oldCount = bucketMask + 1
        let old = buckets
        let newCount = oldCount * 2
        buckets = .allocate(capacity: newCount)
        buckets.initialize(repeating: Self.empty, count: newCount)
        bucketMask = newCount - 1
        bucketShift -= 1
        for i in 0..<oldCount where old[i] != Self.empty {
            var j = home(Int32(truncatingIfNeeded: old[i] >> 32))
            while buckets[j] != Self.empty { j = (j + 1) & bucketMask }
            buckets[j] = old[i]
        }
        old.deallocate()
    }

    private mutating func growSlots() {
        let newCapacity = max(16, capacity * 2)
        func grow<T>(_ p: inout UnsafeMutablePointer<T>) {
            let q = UnsafeMutablePointer<T>.allocate(capacity: newCapacity)
            q.moveInitialize(from: p, count: count)
            p.deallocate()
            p = q
        }
        grow(&ids); grow(&clocks); grow(&signals); grow(&notifies); grow(&targets)
        grow(&sivals); grow(&sequences); grow(&expiries); grow(&intervals); grow(&overruns)
        capacity = newCapacity
    }

    /// Slots ordered newest-created first (the order of /proc/PID/timers).
    func slotsNewestFirst() -> [Int] {
        var order = Array(0..<count)
        let seq = sequences
        order.sort { seq[$0] > seq[$1] }
        return order
    }
}
