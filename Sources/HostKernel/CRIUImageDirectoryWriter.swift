import SystemPackage
import TimerCore
import TimerFormats

#if canImport(Glibc)
import Glibc
#endif

/// Writes the copy of an image directory that `criu fix` / `criu strip` make,
/// whole or not at all (a StagedDirectory, as a tree is written): every file
/// copied byte for byte, or its rewritten bytes, with the source's permission
/// bits.
public enum CRIUImageDirectoryWriter {
    /// Why `output` may not be written: something other than an empty
    /// directory (or a symlink to one) is there. nil when absent or empty.
    public static func refusal(of output: String) -> String? {
        let info: Stat
        do { info = try FilePath(output).stat() } catch {
            return error == .noSuchFileOrDirectory ? nil : "stat: \(KernelErrno(error).nameAndMessage)"
        }
        guard info.type == .directory else {
            return "it exists and is \(CRIUImageDirectoryListing.kindName(info.type)) (never replaced)"
        }
        do {
            if try !DirectoryListing.names(output).isEmpty {
                return "the directory exists and is not empty (it is never overwritten)"
            }
        } catch {
            return "opendir: \(KernelErrno(error).nameAndMessage)"
        }
        return nil
    }

    /// Writes the copy of `edit.directory` (listed as `entries`) with the edit applied, to `output`.
    public static func write(_ edit: CRIUImageEdit, entries: [CRIUImageDirectoryListing.SourceEntry],
                             to output: String) throws(TreeWriteError) {
        for name in edit.addedFiles.keys where entries.contains(where: { $0.name == name }) {
            throw TreeWriteError(path: output, problem: "\(edit.directory) already has a \(name) (was it written by timer-criu before?)")
        }
        var info = stat()
        let mode = stat(edit.directory, &info) == 0 ? info.st_mode & 0o7777 : 0o755
        let source = edit.directory.hasSuffix("/") ? edit.directory : edit.directory + "/"
        try StagedDirectory.build(output, mode: mode, refusal: refusal(of:)) { staged throws(TreeWriteError) in
            for entry in entries {
                try staged.add(entry.name) { destination throws(OutputFileError) in
                    switch entry.kind {
                    case .symlink(let linkTarget):
                        guard symlink(linkTarget, destination) == 0 else {
                            throw OutputFileError(path: destination, call: "symlink", errno: KernelErrno.current)
                        }
                    case .regular(let mode):
                        let permissions = FilePermissions(rawValue: CModeT(mode))
                        if let bytes = edit.rewrittenFiles[entry.name] {
                            try OutputFile.createNew(bytes, at: destination, permissions: permissions)
                            // The source's bits exactly (open's mode is masked by the umask).
                            guard chmod(destination, permissions.rawValue) == 0 else {
                                throw OutputFileError(path: destination, call: "chmod", errno: KernelErrno.current)
                            }
                        } else {
                            try OutputFile.createCopy(of: source + entry.name, at: destination, permissions: permissions)
                        }
                    }
                }
            }
            for (name, bytes) in edit.addedFiles.sorted(by: { $0.key < $1.key }) {
                try staged.add(name) { destination throws(OutputFileError) in try OutputFile.createNew(bytes, at: destination) }
            }
        }
    }
}

extension OutputFile {
    /// Creates a new file (O_EXCL) holding a byte-for-byte copy of `source`,
    /// read in 1 MiB pieces (CRIU's memory images can be gigabytes), with
    /// `permissions` (not masked by the umask) and fsync'ed; removed again on
    /// any failure.
    static func createCopy(of source: String, at path: String, permissions: FilePermissions) throws(OutputFileError) {
        let input: FileDescriptor
        do { input = try FileDescriptor.open(FilePath(source), .readOnly, options: [.closeOnExec, .noFollow]) } catch {
            throw OutputFileError(path: source, call: "open", errno: KernelErrno(thrown: error))
        }
        defer { _ = try? input.close() }
        let fd = try OutputFile.openNew(path, permissions: permissions)
        var failure: OutputFileError?
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while failure == nil {
            let count: Int
            do { count = try buffer.withUnsafeMutableBytes { try input.read(into: $0, retryOnInterrupt: true) } } catch {
                failure = OutputFileError(path: source, call: "read", errno: KernelErrno(thrown: error))
                break
            }
            if count == 0 { break }
            do { _ = try buffer.withUnsafeBytes { try fd.writeAll(UnsafeRawBufferPointer(rebasing: $0[..<count])) } } catch {
                failure = OutputFileError(path: path, call: "write", errno: KernelErrno(thrown: error))
            }
        }
        if failure == nil, fchmod(fd.rawValue, permissions.rawValue) != 0 {
            failure = OutputFileError(path: path, call: "fchmod", errno: KernelErrno.current)
        }
        if failure == nil, fsync(fd.rawValue) != 0 {
            failure = OutputFileError(path: path, call: "fsync", errno: KernelErrno.current)
        }
        if (try? fd.close()) == nil, failure == nil {
            failure = OutputFileError(path: path, call: "close", errno: .EIO)
        }
        if let failure {
            _ = unlink(path)
            throw failure
        }
    }
}
