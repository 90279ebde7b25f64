import SystemPackage
import TimerCore

#if canImport(Glibc)
import Glibc
#endif

/// Writes the copy of an image directory that `criu fix` / `criu strip` make,
/// whole or not at all, as CheckpointTreeWriter writes a tree: every file goes
/// into a temporary sibling directory `.OUT.tmp-PID` (copied byte for byte, or
/// its rewritten bytes, with the source's permission bits), each fsync'ed;
/// then the directory is renamed to OUT. rename(2) replaces an empty
/// directory and refuses a full one, so OUT is absent, empty, or the complete
/// copy. Stop signals are held meanwhile and acted on once the temporary
/// directory is gone; a symlink to an empty directory is written through.
public enum CRIUImageDirectoryWriter {
    /// Why `output` may not be written: something other than an empty
    /// directory (or a symlink to one) is there. nil when absent or empty.
    public static func refusal(of output: String) -> String? {
        var info = stat()
        guard stat(output, &info) == 0 else {
            return errno == ENOENT ? nil : "stat: \(KernelErrno(rawValue: errno).nameAndMessage)"
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            return "it exists and is \(CRIUImageDirectoryListing.kindName(info.st_mode)) (never replaced)"
        }
        guard let dir = opendir(output) else { return "opendir: \(KernelErrno(rawValue: errno).nameAndMessage)" }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { return "the directory exists and is not empty (it is never overwritten)" }
        }
        return nil
    }

    /// Writes the copy of `edit.directory` (listed as `entries`) with the edit applied, to `output`.
    public static func write(_ edit: CRIUImageEdit, entries: [CRIUImageDirectoryListing.SourceEntry],
                             to output: String) throws(TreeWriteError) {
        var target = output
        while target.count > 1 && target.hasSuffix("/") { target.removeLast() }
        if let problem = refusal(of: target) { throw TreeWriteError(path: output, problem) }
        for name in edit.addedFiles.keys where entries.contains(where: { $0.name == name }) {
            throw TreeWriteError(path: output, "\(edit.directory) already has a \(name) (was it written by timer-criu before?)")
        }
        do { target = try OutputFile.resolveSymlinks(target) } catch {
            throw TreeWriteError(path: output, "\(error.call): \(error.errno.nameAndMessage)")
        }

        let slash = target.lastIndex(of: "/")
        let parent = slash.map { String(target[...$0]) } ?? ""
        let base = slash.map { String(target[target.index(after: $0)...]) } ?? target
        let temporary = "\(parent).\(base).tmp-\(getpid())"
        let held = HeldStopSignals.hold()
        defer { HeldStopSignals.release(held) }
        guard mkdir(temporary, 0o700) == 0 else {
            throw TreeWriteError(path: output, "mkdir(\(temporary)): \(KernelErrno(rawValue: errno).nameAndMessage)")
        }
        var written: [String] = []
        func abandon(_ problem: String) -> TreeWriteError {
            for file in written { unlink(file) }
            rmdir(temporary)
            return TreeWriteError(path: output, problem)
        }
        let source = edit.directory.hasSuffix("/") ? edit.directory : edit.directory + "/"
        for entry in entries {
            let destination = "\(temporary)/\(entry.name)"
            do throws(OutputFileError) {
                switch entry.kind {
                case .symlink(let linkTarget):
                    guard symlink(linkTarget, destination) == 0 else {
                        throw OutputFileError(path: destination, call: "symlink", errno: KernelErrno(rawValue: errno))
                    }
                case .regular(let mode):
                    let permissions = FilePermissions(rawValue: CModeT(mode))
                    if let bytes = edit.rewrittenFiles[entry.name] {
                        try OutputFile.createNew(bytes, at: destination, permissions: permissions)
                        // The source's bits exactly (open's mode is masked by the umask).
                        if chmod(destination, permissions.rawValue) != 0 {
                            written.append(destination)
                            throw OutputFileError(path: destination, call: "chmod", errno: KernelErrno(rawValue: errno))
                        }
                    } else {
                        try OutputFile.createCopy(of: source + entry.name, at: destination, permissions: permissions)
                    }
                }
            } catch {
                throw abandon("\(error.call)(\(error.path)): \(error.errno.nameAndMessage)")
            }
            written.append(destination)
            if let signo = HeldStopSignals.pending() {
                throw abandon("interrupted by \(HeldStopSignals.name(signo)): nothing written")
            }
        }
        for (name, bytes) in edit.addedFiles.sorted(by: { $0.key < $1.key }) {
            let destination = "\(temporary)/\(name)"
            do { try OutputFile.createNew(bytes, at: destination) } catch {
                throw abandon("\(error.call)(\(destination)): \(error.errno.nameAndMessage)")
            }
            written.append(destination)
        }
        var info = stat()
        let mode = stat(edit.directory, &info) == 0 ? info.st_mode & 0o7777 : 0o755
        if chmod(temporary, mode) != 0 { throw abandon("chmod(\(temporary)): \(KernelErrno(rawValue: errno).nameAndMessage)") }
        do { try OutputFile.syncDirectory(temporary) } catch {
            throw abandon("fsync(\(temporary)): \(error.errno.nameAndMessage)")
        }
        if let signo = HeldStopSignals.pending() {
            throw abandon("interrupted by \(HeldStopSignals.name(signo)): nothing written")
        }
        guard rename(temporary, target) == 0 else {
            let e = errno
            let why = e == ENOTEMPTY || e == EEXIST || e == ENOTDIR
                ? "something was put there meanwhile" : KernelErrno(rawValue: e).nameAndMessage
            throw abandon("rename(\(temporary), \(target)): \(why)")
        }
        try? OutputFile.syncDirectory(parent.isEmpty ? "." : parent)
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
            throw OutputFileError(path: source, call: "open", errno: KernelErrno(error as? Errno ?? .ioError))
        }
        defer { _ = try? input.close() }
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(FilePath(path), .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec],
                                         permissions: permissions)
        } catch {
            throw OutputFileError(path: path, call: "open", errno: KernelErrno(error as? Errno ?? .ioError))
        }
        var failure: OutputFileError?
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while failure == nil {
            let count: Int
            do { count = try buffer.withUnsafeMutableBytes { try input.read(into: $0, retryOnInterrupt: true) } } catch {
                failure = OutputFileError(path: source, call: "read", errno: KernelErrno(error as? Errno ?? .ioError))
                break
            }
            if count == 0 { break }
            do { _ = try buffer.withUnsafeBytes { try fd.writeAll(UnsafeRawBufferPointer(rebasing: $0[..<count])) } } catch {
                failure = OutputFileError(path: path, call: "write", errno: KernelErrno(error as? Errno ?? .ioError))
            }
        }
        if failure == nil, fchmod(fd.rawValue, permissions.rawValue) != 0 {
            failure = OutputFileError(path: path, call: "fchmod", errno: KernelErrno(rawValue: errno))
        }
        if failure == nil, fsync(fd.rawValue) != 0 {
            failure = OutputFileError(path: path, call: "fsync", errno: KernelErrno(rawValue: errno))
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
