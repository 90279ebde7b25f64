/// Where the readers of checkpoints, CRIU images, trees, saved /proc files
/// and cost tables get their input files from. The readers are pure: they
/// parse bytes. HostKernel's `HostInputFiles` reads the real file system
/// (regular files and stdin only, a size cap before reading, the errno
/// named); a test can answer from memory.
public protocol InputFiles {
    /// The whole content of the regular file at `path` (or of stdin for
    /// `InputFile.standardInputPath`), refused with a CheckpointError naming
    /// the file when it is something else or larger than `limit` bytes;
    /// `limitText` says what the limit is ("the 64 MiB a CRIU image file may have").
    func read(_ path: String, limit: Int, limitText: String) throws(CheckpointError) -> [UInt8]
    /// The entry names of `directory`, without "." and "..".
    func fileNames(_ directory: String) throws(CheckpointError) -> [String]
    /// Whether `path` names a directory (symlinks followed).
    func isDirectory(_ path: String) -> Bool
    /// Whether something exists at `path` (symlinks followed).
    func exists(_ path: String) -> Bool
}

/// The limits every reader of input files shares.
public enum InputFile {
    /// The path that means standard input, for every command's input.
    public static let standardInputPath = "-"

    /// How errors name an input: `-` is "stdin".
    public static func displayName(_ path: String) -> String {
        path == standardInputPath ? "stdin" : path
    }

    /// Input files larger than this are refused before they are read (a
    /// checkpoint of 90,000 timers is about 6 MiB).
    public static let maximumSize = 64 << 20
}

extension InputFiles {
    /// The whole content of `path`, refused when larger than `InputFile.maximumSize`.
    public func read(_ path: String) throws(CheckpointError) -> [UInt8] {
        try read(path, limit: InputFile.maximumSize, limitText: "the \(InputFile.maximumSize >> 20) MiB an input file may have")
    }
}
