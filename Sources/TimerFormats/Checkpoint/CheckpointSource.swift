import TimerCore
/// What a checkpoint path holds: one process's checkpoint, or a
/// `timer-criu-tree/1` directory of them.
public enum CheckpointInput: Sendable {
    case single(Checkpoint)
    case tree(CheckpointTree)
}

/// Where every command gets a checkpoint from: a `timer-criu/1` JSON file, a
/// CRIU image directory, one CRIU core-PID.img, or (`loadCheckpointOrTree`)
/// a `dump --tree` directory. Commands never look at the kind themselves.
public enum CheckpointSource {
    public enum Kind: String, Sendable {
        /// A `timer-criu/1` JSON file (docs/format.md).
        case json
        /// A CRIU image directory (docs/criu-images.md).
        case criuDirectory = "CRIU image directory"
        /// One CRIU core-PID.img file; its directory gives pstree.img and the threads.
        case criuCoreImage = "CRIU core image"
    }

    /// How `load(path:)` reads `path`: a directory is a CRIU image directory,
    /// a `*.img` file a CRIU core image, anything else JSON.
    public static func kind(of path: String, files: some InputFiles) -> Kind {
        if path == InputFile.standardInputPath { return .json }
        if files.isDirectory(path) { return .criuDirectory }
        if path.hasSuffix(".img") { return .criuCoreImage }
        return .json
    }

    /// The checkpoint at `path`, whatever its kind. Every refusal is one
    /// CheckpointError naming the file (`timer-criu` exits 2 for it).
    /// The checkpoint is also validated (`Checkpoint.validate`): what every
    /// kernel would refuse is refused here, before any syscall or model call.
    public static func load(path: String, files: some InputFiles) throws(CheckpointError) -> Checkpoint {
        let checkpoint: Checkpoint
        switch kind(of: path, files: files) {
        case .criuDirectory: checkpoint = try CRIUCheckpointReader.loadDirectory(path, files: files)
        case .criuCoreImage: checkpoint = try CRIUCheckpointReader.loadCoreImage(path, files: files)
        case .json: checkpoint = try jsonCheckpoint(path: path, files: files)
        }
        try checkpoint.validate(path: displayName(path))
        return checkpoint
    }

    /// The single checkpoint or the tree at `path`: a directory with an
    /// index.json is a tree, and so is one of `*.json` files without one
    /// (docs/trees.md; `CheckpointTree.load` then names the missing index),
    /// any other directory a CRIU image directory.
    public static func loadCheckpointOrTree(path: String, files: some InputFiles) throws(CheckpointError) -> CheckpointInput {
        if CheckpointTree.isTreeDirectory(path, files: files) || CheckpointTree.looksLikeTreeWithoutIndex(path, files: files) {
            return .tree(try CheckpointTree.load(directory: path, files: files))
        }
        return .single(try load(path: path, files: files))
    }

    /// A timer-criu/1 file: read with the same checks as an image file (a
    /// regular file, size cap before reading, errno named) and handed to the
    /// JSON reader (CheckpointJSON.swift), which names the field at fault.
    static func jsonCheckpoint(path: String, files: some InputFiles) throws(CheckpointError) -> Checkpoint {
        try Checkpoint(json: files.read(path, limit: Checkpoint.maximumFileSize,
                                                 limitText: Checkpoint.fileLimitText), path: displayName(path))
    }

    /// How errors name an input: `-` is "stdin".
    public static func displayName(_ path: String) -> String {
        InputFile.displayName(path)
    }
}
