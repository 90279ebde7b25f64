import SystemPackage

extension FileDescriptor {
    /// Exactly `count` bytes, read however short the reads come (EINTR
    /// retried); nil at an end of file before them or on an error.
    public func readExactly(_ count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let n = bytes.withUnsafeMutableBytes { raw in
                try? read(into: UnsafeMutableRawBufferPointer(rebasing: raw[offset...]))
            }
            guard let n, n > 0 else { return nil }
            offset += n
        }
        return bytes
    }
}
