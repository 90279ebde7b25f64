import TimerCore

/// The tree's index as JSON (docs/trees.md), written and read with the
/// checks of a checkpoint file.
extension CheckpointTreeEntry {
    /// `{"pid": ..., "ppid": ..., "file": ...}`, as the index and `inspect DIR --json` list a process.
    var json: [(key: String, value: JSONOutput)] {
        [("pid", .integer(pid)), ("ppid", .integer(ppid)), ("file", .string(file))]
    }
}

extension CheckpointTreeIndex {
    /// The index as JSON text (one process per line), ending with a newline.
    public func jsonBytes() -> [UInt8] {
        JSONOutput.object([
            ("format", .string(format)), ("root", .integer(root)),
            ("processes", .array(processes.map { .object($0.json) }, .lines)),
        ], .lines).document
    }

    /// Reads and checks an index: format, a root that is listed, unique pids
    /// and files, plain file names, every non-root parent in the tree and
    /// every process reachable from the root. Entries come back parents first.
    public init(json bytes: [UInt8], path: String? = nil) throws(CheckpointError) {
        let document: JSONValue
        do { document = try JSONValue.parse(bytes) } catch {
            throw CheckpointError(path: path, "not JSON: \(error)")
        }
        try self.init(document: document, path: path)
    }

    /// The checks of `init(json:)` on a parsed document. `entryKeys` are the
    /// members a process may have (the `inspect --json` form adds `checkpoint`).
    init(document: JSONValue, path: String?, entryKeys: Set<String> = ["pid", "ppid", "file"]) throws(CheckpointError) {
        let reader = CheckpointReader(path: path)
        _ = try reader.members(document, at: "", allowed: ["format", "root", "processes"])
        let format = try reader.string(try reader.required(document, "format", at: ""), at: "format")
        guard format == Self.formatName else {
            throw reader.fail("format", "\"\(format)\" is not \(Self.formatName)")
        }
        let root = Int32(try reader.integer(try reader.required(document, "root", at: ""), at: "root",
                                            in: CheckpointReader.pidRange))
        let list = try reader.required(document, "processes", at: "")
        guard case let .array(items) = list else {
            throw reader.fail("processes", "expected an array, found \(list.kindName)")
        }
        var entries: [CheckpointTreeEntry] = []
        var indexOfPID: [Int32: Int] = [:]
        // File names are bytes to the kernel: "é.json" as U+00E9 and as
        // e + U+0301 are two files, though Swift's String == calls them equal.
        var indexOfFile: [[UInt8]: Int] = [:]
        for (i, item) in items.enumerated() {
            let at = "processes[\(i)]"
            _ = try reader.members(item, at: at, allowed: entryKeys)
            let pid = Int32(try reader.integer(try reader.required(item, "pid", at: at), at: "\(at).pid",
                                               in: CheckpointReader.pidRange))
            // The root's parent may be 0 (a process started by the kernel).
            let ppid = Int32(try reader.integer(try reader.required(item, "ppid", at: at), at: "\(at).ppid",
                                                in: CheckpointReader.idRange))
            let file = try reader.string(try reader.required(item, "file", at: at), at: "\(at).file")
            guard !file.isEmpty, file != ".", file != "..", !file.contains("/"), !file.utf8.contains(0) else {
                throw reader.fail("\(at).file", "\"\(EchoedText.cut(file))\" is not a plain file name in the tree directory")
            }
            if let other = indexOfPID.updateValue(i, forKey: pid) {
                throw reader.fail("\(at).pid", "\(pid) appears twice (also processes[\(other)])")
            }
            if let other = indexOfFile.updateValue(i, forKey: Array(file.utf8)) {
                throw reader.fail("\(at).file", "\"\(EchoedText.cut(file))\" appears twice (also processes[\(other)])")
            }
            entries.append(CheckpointTreeEntry(pid: pid, ppid: ppid, file: file))
        }
        guard indexOfPID[root] != nil else {
            throw reader.fail("root", "\(root) is not one of the processes")
        }
        for (i, entry) in entries.enumerated() where entry.pid != root && indexOfPID[entry.ppid] == nil {
            throw reader.fail("processes[\(i)].ppid", "\(entry.ppid) is not in the tree (only the root's parent may be outside it)")
        }
        let ordered = Self.parentsFirst(root: root, entries)
        if ordered.count != entries.count {
            let reached = Set(ordered.map(\.pid))
            let lost = entries.first { !reached.contains($0.pid) }!
            throw reader.fail("processes", "process \(lost.pid) is not a descendant of root \(root) (its parents form a loop)")
        }
        self.init(root: root, processes: ordered, format: format)
    }
}

/// Reading a tree directory: the index and every checkpoint it names.
extension CheckpointTree {
    /// Whether `path` is a tree directory: a directory with an index.json.
    /// Checked before the CRIU-directory test, since a CRIU image directory
    /// has no index.json.
    public static func isTreeDirectory(_ path: String, files: some InputFiles) -> Bool {
        files.isDirectory(path) && files.exists(indexPath(path))
    }

    /// A directory of `*.json` checkpoints with neither an index.json nor a
    /// CRIU image: most likely a tree whose index was lost. `restore` sends it
    /// to `load`, which names the missing index, instead of the CRIU reader.
    public static func looksLikeTreeWithoutIndex(_ path: String, files: some InputFiles) -> Bool {
        guard files.isDirectory(path), !isTreeDirectory(path, files: files),
              let names = try? files.fileNames(path) else { return false }
        if names.contains(where: { $0 == "pstree.img" || CRIUImageDirectory.coreTID(fileName: $0) != nil }) {
            return false
        }
        return names.contains { $0.hasSuffix(".json") }
    }

    static func indexPath(_ directory: String) -> String {
        directory.hasSuffix("/") ? directory + CheckpointTreeIndex.fileName
            : directory + "/" + CheckpointTreeIndex.fileName
    }

    /// Loads `directory`/index.json and every checkpoint it names, each
    /// validated like a single checkpoint (`CheckpointSource.load`), and checks
    /// that each checkpoint is of the pid its entry says. One error names the
    /// file and the problem.
    public static func load(directory: String, files: some InputFiles) throws(CheckpointError) -> CheckpointTree {
        guard files.isDirectory(directory) else {
            throw CheckpointError(path: directory, files.exists(directory)
                ? "not a directory" : "no such directory")
        }
        let indexPath = indexPath(directory)
        guard files.exists(indexPath) else {
            throw CheckpointError(path: indexPath, "missing: a timer-criu-tree/1 directory needs an index (docs/trees.md)")
        }
        let index = try CheckpointTreeIndex(json: files.read(indexPath), path: indexPath)
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        var checkpoints: [Checkpoint] = []
        checkpoints.reserveCapacity(index.processes.count)
        for entry in index.processes {
            let path = base + entry.file
            guard files.exists(path) else {
                throw CheckpointError(path: indexPath, "process \(entry.pid): its checkpoint \(entry.file) does not exist")
            }
            guard !path.hasSuffix(".img"), !files.isDirectory(path) else {
                throw CheckpointError(path: path, "a tree holds timer-criu/1 JSON checkpoints, not CRIU images")
            }
            let checkpoint = try CheckpointSource.load(path: path, files: files)
            guard checkpoint.pid == entry.pid else {
                throw CheckpointError(path: path, "pid \(checkpoint.pid), but index.json lists this file for process \(entry.pid)")
            }
            checkpoints.append(checkpoint)
        }
        return CheckpointTree(directory: directory, index: index, checkpoints: checkpoints)
    }
}
