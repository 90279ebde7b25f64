import TimerCore
/// A whole tree in one file: the `inspect DIR --json` form (the index with each
/// process's timer-criu/1 checkpoint under `checkpoint`), which `criu strip`
/// writes as timer-criu.json for a checkpoint of several processes.
extension CheckpointTree {
    /// Whether `bytes` look like that form (a `timer-criu-tree/1` object) rather
    /// than a single `timer-criu/1` checkpoint.
    public static func isInspectJSON(_ bytes: [UInt8]) -> Bool {
        guard let document = try? JSONValue.parse(bytes), case .string(let format)? = document["format"] else { return false }
        return format == CheckpointTreeIndex.formatName
    }

    /// Reads the `inspect --json` form with the index's checks and each
    /// checkpoint's, the error naming the field (`processes[1].checkpoint.timers[0].id: ...`).
    public init(inspectJSON bytes: [UInt8], path: String? = nil) throws(CheckpointError) {
        let document: JSONValue
        do { document = try JSONValue.parse(bytes) } catch {
            throw CheckpointError(path: path, "not JSON: \(error)")
        }
        let index = try CheckpointTreeIndex(document: document, path: path, entryKeys: ["pid", "ppid", "file", "checkpoint"])
        guard case .array(let items)? = document["processes"] else {
            throw CheckpointError(path: path, "processes: expected an array")
        }
        var byPID: [Int32: Checkpoint] = [:]
        for (i, item) in items.enumerated() {
            let at = "processes[\(i)]"
            guard let value = item["checkpoint"] else { throw CheckpointError(path: path, "\(at): no checkpoint") }
            var reader = CheckpointReader(path: path)
            let checkpoint: Checkpoint
            do { checkpoint = try reader.checkpoint(value) } catch {
                throw CheckpointError(path: path, "\(at).checkpoint.\(error.problem)")
            }
            try checkpoint.validate(path: path)
            guard case .number(let pidText)? = item["pid"], Int32(pidText) == checkpoint.pid else {
                throw CheckpointError(path: path, "\(at).checkpoint.pid: \(checkpoint.pid) is not the process's pid")
            }
            byPID[checkpoint.pid] = checkpoint
        }
        self.init(directory: path ?? "", index: index, checkpoints: index.processes.compactMap { byPID[$0.pid] })
    }
}
