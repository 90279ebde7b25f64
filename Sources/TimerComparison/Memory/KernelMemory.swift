import TimerCore
import TimerFormats
/// What the kernel holds for a checkpoint's timers under each ID-index
/// design (`timer-criu memory`, docs/memory.md).
public struct KernelMemory: Sendable {
    /// A kernel to estimate: its name and what it allocates.
    public struct Kernel: Sendable {
        public var name: String
        public var model: KernelMemoryModel
        public init(name: String, model: KernelMemoryModel) {
            self.name = name
            self.model = model
        }
    }

    /// One design row: kernels that allocate the same objects for timers.
    public struct DesignRow: Sendable {
        public var design: TimerIDIndex
        public var kernels: [String]
        public var model: KernelMemoryModel
        public var timers: Int
        public var timerBytes: Int
        public var indexNodes: Int
        public var indexBytes: Int
        public var totalBytes: Int { timerBytes + indexBytes }
        /// The same number of timers at IDs 0, 1, 2, ... in each process.
        public var denseTotalBytes: Int

        public var bytesPerTimer: Double { timers == 0 ? 0 : Double(totalBytes) / Double(timers) }
        public var ratioToDense: Double { denseTotalBytes == 0 ? 1 : Double(totalBytes) / Double(denseTotalBytes) }
    }

    /// What finding one of these timers by ID costs on one kernel.
    public struct Lookup: Sendable {
        public var kernel: String
        public var index: TimerIDIndex
        /// Hash kernels: the chains of these timers (all processes on one table).
        public var chains: HashChains?
        public var hash: TimerHashFunction?
        /// Tree kernels: the levels walked (the tallest process for xarrays).
        public var treeHeight: Int
    }

    public var processes: Int
    public var timers: Int
    public var maxID: Int32?
    public var rows: [DesignRow]
    public var lookups: [Lookup]
    public var sizes: SlabObjectSizes
    public var signalStruct: UInt64

    /// A plausible x86-64 direct-map address of a signal_struct (signal_cache
    /// objects are 1,152 bytes on the host). The hash buckets depend on it;
    /// process i of a tree is placed i objects further.
    public static let defaultSignalStruct: UInt64 = 0xffff_8881_04a3_c480
    public static let signalStructStride: UInt64 = 1152

    /// The estimate for `processes` (each one's timer IDs) on `kernels`.
    /// `lookups: false` skips the hash chains (the sweep needs bytes only).
    public static func estimate(processes: [[Int32]], kernels: [Kernel], sizes: SlabObjectSizes,
                                signalStruct: UInt64 = defaultSignalStruct, lookups withLookups: Bool = true) -> KernelMemory {
        let perProcess = processes.map { RadixIndex.sortedDistinct($0) }
        let dense = processes.map { ids in (0..<Int64(ids.count)).map { $0 } }
        let timers = processes.reduce(0) { $0 + $1.count }
        var rows: [DesignRow] = []
        for kernel in kernels {
            if let at = rows.firstIndex(where: { $0.model.sameMemory(as: kernel.model) }) {
                rows[at].kernels.append(kernel.name)
                continue
            }
            let nodes = indexNodes(kernel.model.index, perProcess: perProcess)
            let nodeBytes = sizes.nodeBytes(kernel.model.index)
            let timerBytes = timers * sizes.timerBytes(kernel.model)
            rows.append(DesignRow(design: kernel.model.index, kernels: [kernel.name], model: kernel.model,
                                  timers: timers, timerBytes: timerBytes, indexNodes: nodes,
                                  indexBytes: nodes * nodeBytes,
                                  denseTotalBytes: timerBytes + indexNodes(kernel.model.index, perProcess: dense) * nodeBytes))
        }
        // Designs in the order of TimerIDIndex (global-hash first), kernels in profile order.
        rows = TimerIDIndex.allCases.flatMap { design in rows.filter { $0.design == design } }
        let lookups = !withLookups ? [] : kernels.map { kernel -> Lookup in
            switch kernel.model.index {
            case .globalHash:
                var all: [(UInt64, Int32)] = []
                for (i, ids) in processes.enumerated() {
                    let pointer = signalStruct &+ UInt64(i) &* signalStructStride
                    all += ids.map { (pointer, $0) }
                }
                let hash = kernel.model.hash ?? .hash32(multiplier: TimerHashFunction.goldenRatio32, bits: 9)
                return Lookup(kernel: kernel.name, index: .globalHash,
                              chains: HashChains.of(keys: all, hash: hash), hash: hash, treeHeight: 0)
            case .perProcessXArray:
                return Lookup(kernel: kernel.name, index: .perProcessXArray, chains: nil, hash: nil,
                              treeHeight: perProcess.map(RadixIndex.xarrayHeight).max() ?? 0)
            case .globalIDR:
                return Lookup(kernel: kernel.name, index: .globalIDR, chains: nil, hash: nil,
                              treeHeight: RadixIndex.idrHeight(sortedIDs: machineWide(perProcess)))
            }
        }
        return KernelMemory(processes: processes.count, timers: timers,
                            maxID: processes.compactMap { $0.max() }.max(), rows: rows, lookups: lookups,
                            sizes: sizes, signalStruct: signalStruct)
    }

    /// Index nodes for these processes' IDs: an xarray each, one IDR for all.
    public static func indexNodes(_ index: TimerIDIndex, perProcess: [[Int64]]) -> Int {
        switch index {
        case .globalHash: return 0
        case .perProcessXArray: return perProcess.reduce(0) { $0 + RadixIndex.xarrayNodes(sortedIDs: $1) }
        case .globalIDR: return RadixIndex.idrLayers(sortedIDs: machineWide(perProcess))
        }
    }

    /// Total bytes on one kernel (the `compare` column).
    public static func totalBytes(processes: [[Int32]], model: KernelMemoryModel, sizes: SlabObjectSizes) -> Int {
        let timers = processes.reduce(0) { $0 + $1.count }
        let nodes = indexNodes(model.index, perProcess: processes.map { RadixIndex.sortedDistinct($0) })
        return timers * sizes.timerBytes(model) + nodes * sizes.nodeBytes(model.index)
    }

    /// Every process's IDs in one ID space (2.6: an ID is the machine's).
    static func machineWide(_ perProcess: [[Int64]]) -> [Int64] {
        perProcess.count == 1 ? perProcess[0] : Array(Set(perProcess.joined())).sorted()
    }
}
