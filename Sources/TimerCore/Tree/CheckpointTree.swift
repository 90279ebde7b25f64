/// One process of a tree: its pid and parent's pid at dump time, and the
/// file (in the tree directory) holding its `timer-criu/1` checkpoint.
public struct CheckpointTreeEntry: Hashable, Sendable {
    public var pid: Int32
    /// The parent's pid; for the root, whatever its parent was (not in the tree).
    public var ppid: Int32
    /// A plain file name in the tree directory, `PID.json` as dump writes it.
    public var file: String

    public init(pid: Int32, ppid: Int32, file: String) {
        self.pid = pid
        self.ppid = ppid
        self.file = file
    }
}

/// `DIR/index.json` of a `timer-criu-tree/1` directory (docs/trees.md): the
/// root pid and one entry per process, parents before children. Like CRIU's
/// pstree.img beside one core image per task.
public struct CheckpointTreeIndex: Hashable, Sendable {
    public static let formatName = "timer-criu-tree/1"
    public static let fileName = "index.json"

    public var format: String
    public var root: Int32
    /// Parents before children (preorder, children by ascending pid).
    public var processes: [CheckpointTreeEntry]

    public init(root: Int32, processes: [CheckpointTreeEntry], format: String = CheckpointTreeIndex.formatName) {
        self.format = format
        self.root = root
        self.processes = processes
    }

    /// The conventional checkpoint file name of a process.
    public static func fileName(pid: Int32) -> String { "\(pid).json" }

    /// Preorder from `root`, children by ascending pid; entries not reached
    /// (not below the root) are left out.
    public static func parentsFirst(root: Int32, _ entries: [CheckpointTreeEntry]) -> [CheckpointTreeEntry] {
        var children: [Int32: [CheckpointTreeEntry]] = [:]
        var rootEntry: CheckpointTreeEntry?
        for entry in entries {
            if entry.pid == root { rootEntry = entry } else { children[entry.ppid, default: []].append(entry) }
        }
        guard let rootEntry else { return [] }
        var ordered: [CheckpointTreeEntry] = []
        var seen = Set<Int32>()
        var stack = [rootEntry]
        while let entry = stack.popLast() {
            guard seen.insert(entry.pid).inserted else { continue }
            ordered.append(entry)
            // Reversed onto the stack so the lowest pid comes out first.
            stack.append(contentsOf: (children[entry.pid] ?? []).sorted { $0.pid > $1.pid })
        }
        return ordered
    }
}

/// A loaded process tree: the index and every process's checkpoint.
public struct CheckpointTree: Sendable {
    public var directory: String
    public var index: CheckpointTreeIndex
    /// Checkpoints in index order (parents before children).
    public var checkpoints: [Checkpoint]

    public init(directory: String, index: CheckpointTreeIndex, checkpoints: [Checkpoint]) {
        self.directory = directory
        self.index = index
        self.checkpoints = checkpoints
    }
}
