import SystemPackage
import TimerCore

#if canImport(Glibc)
import Glibc
#endif

/// The one readdir(3) loop of timer-criu: the entry names of a directory.
public enum DirectoryListing {
    /// The names in `path` without "." and "..", in readdir order; the
    /// directory is closed again before this returns. Throws opendir's errno.
    public static func names(_ path: String) throws(Errno) -> [String] {
        guard let directory = opendir(path) else { throw Errno(rawValue: KernelErrno.current.rawValue) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    /// The decimal names in `path` (the pids of /proc, the tids of
    /// /proc/PID/task, the fds of /proc/PID/fd), in readdir order.
    public static func numberedNames(_ path: String) throws(Errno) -> [Int32] {
        try names(path).compactMap { Int32($0) }
    }
}
