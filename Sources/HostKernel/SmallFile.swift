import SystemPackage

/// Reads a small text file whole (a /proc status, stat or children file):
/// nil when it cannot be opened. One helper for every such read in HostKernel.
enum SmallFile {
    static func read(_ path: String) -> String? {
        readBytes(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The same, as bytes (for the strict byte-level parsers).
    static func readBytes(_ path: String) -> [UInt8]? {
        try? readAll(path)
    }

    /// The whole file, read with `chunk`-byte read()s (/proc files give at
    /// most a page per read, whatever the buffer); open's or read's errno.
    static func readAll(_ path: String, chunk size: Int = 4096) throws(Errno) -> [UInt8] {
        let fd: FileDescriptor
        do { fd = try FileDescriptor.open(FilePath(path), .readOnly, options: .closeOnExec) } catch {
            throw error as? Errno ?? .ioError
        }
        defer { _ = try? fd.close() }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: size)
        while true {
            let n: Int
            do { n = try chunk.withUnsafeMutableBytes { try fd.read(into: $0) } } catch { throw error as? Errno ?? .ioError }
            if n == 0 { return bytes }
            bytes += chunk[0..<n]
        }
    }
}
