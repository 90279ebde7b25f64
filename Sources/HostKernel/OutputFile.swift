import SystemPackage
import TimerCore
import TimerFormats

#if canImport(Glibc)
import Glibc
#endif

/// An output file that could not be written. Nothing of it is left behind:
/// no temporary file, and whatever stood at the path is as it was.
public struct OutputFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    /// The call that failed ("open", "write", "rename", ...), or what stands
    /// at the path when the writer refuses it without a call.
    public var call: String
    public var errno: KernelErrno
    public var detail: String?

    public init(path: String, call: String, errno: KernelErrno, detail: String? = nil) {
        self.path = path
        self.call = call
        self.errno = errno
        self.detail = detail
    }

    public var description: String {
        "cannot write \(path): \(call): \(errno.nameAndMessage)" + (detail.map { " (\($0))" } ?? "")
    }
}

extension KernelErrno {
    /// The same value as swift-system's Errno: one errno table for the tool.
    public init(_ errno: Errno) { self.init(rawValue: errno.rawValue) }

    /// What a swift-system call threw (they throw only Errno): the one
    /// conversion of a thrown error to an errno.
    public init(thrown error: any Error) { self.init(error as? Errno ?? .ioError) }

    /// errno after a libc call that swift-system does not wrap (mkdir,
    /// rename, symlink, fork, waitpid, the CTimerSyscalls wrappers) returned -1.
    public static var current: KernelErrno { KernelErrno(rawValue: Glibc.errno) }
}

/// The one file writer of timer-criu: every command that writes a file goes
/// through it (dump -o, the members of dump --tree, compare --svg,
/// calibrate -o).
///
/// What stands at the path decides how it is written:
/// - nothing, or a regular file: replaced atomically (a temporary file in
///   the same directory, fsync'ed, renamed over it); a symlink to one is
///   written through (its target is replaced, the link stays);
/// - a character device or a FIFO (/dev/null, /dev/stdout, a named pipe):
///   opened and written in place, never replaced (/dev/full fails with ENOSPC);
/// - anything else (a directory, a socket, a block device): refused.
/// `-` is standard output.
public enum OutputFile {
    /// The path that means standard output.
    public static let standardOutputPath = "-"

    /// How a path would be written.
    public enum Destination: Equatable, Sendable {
        case standardOutput
        /// Replaced atomically at this path (the symlink chain resolved).
        case replace(String)
        /// Opened and written in place (a character device or a FIFO).
        case inPlace(String)
    }

    /// Decides how `path` is written, or why it cannot be, without writing.
    public static func destination(of path: String) throws(OutputFileError) -> Destination {
        if path == standardOutputPath { return .standardOutput }
        if path.isEmpty { throw OutputFileError(path: "\"\"", call: "open", errno: .ENOENT, detail: "an empty path") }
        let target = try resolveSymlinks(path)
        let status: Stat
        do {
            status = try Stat(FilePath(target))
        } catch Errno.noSuchFileOrDirectory {
            return .replace(target)
        } catch {
            throw OutputFileError(path: path, call: "stat", errno: KernelErrno(error))
        }
        switch status.type {
        case .regular: return .replace(target)
        case .characterSpecial, .fifo: return .inPlace(target)
        case .directory: throw OutputFileError(path: path, call: "open", errno: .EISDIR)
        // open(2) of a socket fails with ENXIO; the writer says it before trying.
        case .socket: throw OutputFileError(path: path, call: "open", errno: .ENXIO, detail: "a socket")
        case .blockSpecial:
            throw OutputFileError(path: path, call: "open", errno: .EEXIST,
                                  detail: "a block device: timer-criu never writes over a disk")
        default: throw OutputFileError(path: path, call: "open", errno: .EEXIST, detail: "not a regular file")
        }
    }

    /// Writes `bytes` to `path` whole (see the type's comment for how).
    public static func write(_ bytes: [UInt8], to path: String) throws(OutputFileError) {
        switch try destination(of: path) {
        case .standardOutput:
            StandardStream.output.write(bytes)
        case .inPlace(let target):
            try writeInPlace(bytes, to: target, reportedAs: path)
        case .replace(let target):
            try replaceAtomically(bytes, at: target, reportedAs: path)
        }
    }

    /// open(path, O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, permissions): a file
    /// that did not exist, the errno named on failure.
    static func openNew(_ path: String, permissions: FilePermissions) throws(OutputFileError) -> FileDescriptor {
        do {
            return try FileDescriptor.open(FilePath(path), .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec],
                                           permissions: permissions)
        } catch {
            throw OutputFileError(path: path, call: "open", errno: KernelErrno(thrown: error))
        }
    }

    /// Creates a new file (O_EXCL) with `bytes`, fsync'ed; removed again on
    /// any failure. For files inside a directory the caller just made (the
    /// members of a tree).
    public static func createNew(_ bytes: [UInt8], at path: String,
                                 permissions: FilePermissions = [.ownerReadWrite, .groupRead, .otherRead])
        throws(OutputFileError)
    {
        let fd = try openNew(path, permissions: permissions)
        do {
            try writeAllAndSync(bytes, to: fd, path: path)
        } catch {
            _ = try? fd.close()
            _ = unlink(path)
            throw error
        }
        do { try fd.close() } catch {
            _ = unlink(path)
            throw OutputFileError(path: path, call: "close", errno: KernelErrno(thrown: error))
        }
    }

    /// fsync(2) of a directory, so that a rename into it is durable.
    public static func syncDirectory(_ path: String) throws(OutputFileError) {
        do {
            let fd = try FileDescriptor.open(FilePath(path), .readOnly, options: [.directory, .closeOnExec])
            defer { _ = try? fd.close() }
            try nothingOrErrno(fsync(fd.rawValue))
        } catch {
            throw OutputFileError(path: path, call: "fsync", errno: KernelErrno(thrown: error))
        }
    }

    // MARK: the two ways of writing

    static func writeInPlace(_ bytes: [UInt8], to target: String, reportedAs path: String) throws(OutputFileError) {
        let fd: FileDescriptor
        do {
            // No O_CREAT, no O_TRUNC: the node stays what it is.
            fd = try FileDescriptor.open(FilePath(target), .writeOnly, options: [.closeOnExec, FileDescriptor.OpenOptions(rawValue: O_NOCTTY)],
                                         retryOnInterrupt: true)
        } catch {
            throw OutputFileError(path: path, call: "open", errno: KernelErrno(thrown: error))
        }
        defer { _ = try? fd.close() }
        do {
            _ = try fd.writeAll(bytes)
        } catch {
            throw OutputFileError(path: path, call: "write", errno: KernelErrno(thrown: error))
        }
    }

    /// A temporary file `.NAME.tmp-PID-N` beside the target, written, fsync'ed
    /// and renamed over it. SIGINT, SIGTERM, SIGHUP and SIGQUIT are held back
    /// meanwhile; one that arrived is acted on only after the temporary file
    /// is gone again (renamed, or removed when the signal came before the
    /// rename), so an interrupted write leaves the old file and no temporary.
    static func replaceAtomically(_ bytes: [UInt8], at target: String, reportedAs path: String)
        throws(OutputFileError)
    {
        let slash = target.lastIndex(of: "/")
        let directory = slash.map { String(target[...$0]) } ?? ""
        let base = slash.map { String(target[target.index(after: $0)...]) } ?? target
        // An existing file keeps its permissions.
        let permissions = (try? Stat(FilePath(target)))?.permissions ?? [.ownerReadWrite, .groupRead, .otherRead]

        let held = HeldStopSignals.hold()
        defer { HeldStopSignals.release(held) }
        var temporary = ""
        var created = false
        for attempt in 0..<100 where !created {
            temporary = "\(directory).\(base).tmp-\(getpid())-\(attempt)"
            do {
                try createNew(bytes, at: temporary, permissions: permissions)
                created = true
            } catch let error where error.errno == .EEXIST && error.call == "open" {
                continue  // a stale temporary of an earlier run with our pid
            } catch {
                throw OutputFileError(path: path, call: error.call, errno: error.errno)
            }
        }
        guard created else { throw OutputFileError(path: path, call: "open", errno: .EEXIST, detail: temporary) }
        TestHooks.pauseBeforeRename()
        if let signo = HeldStopSignals.pending() {
            _ = unlink(temporary)
            throw OutputFileError(path: path, call: "write", errno: .EINTR,
                                  detail: "interrupted by \(HeldStopSignals.name(signo)): nothing written")
        }
        guard rename(temporary, target) == 0 else {
            let e = KernelErrno.current
            _ = unlink(temporary)
            throw OutputFileError(path: path, call: "rename", errno: e)
        }
        // Durable once the directory entry is: a failed fsync of the
        // directory does not undo a complete file.
        try? syncDirectory(directory.isEmpty ? "." : directory)
    }

    static func writeAllAndSync(_ bytes: [UInt8], to fd: FileDescriptor, path: String) throws(OutputFileError) {
        do {
            _ = try fd.writeAll(bytes)
        } catch {
            throw OutputFileError(path: path, call: "write", errno: KernelErrno(thrown: error))
        }
        do { try nothingOrErrno(fsync(fd.rawValue)) } catch {
            throw OutputFileError(path: path, call: "fsync", errno: KernelErrno(error))
        }
    }

    /// Follows a symlink chain to the path it names (which need not exist),
    /// so the link is written through and stays a link. ELOOP after 40 links,
    /// as the kernel's path walk.
    static func resolveSymlinks(_ path: String) throws(OutputFileError) -> String {
        var current = path
        for _ in 0..<40 {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink(current, &buffer, buffer.count - 1)
            if n < 0 {
                let e = KernelErrno.current
                // EINVAL: not a symlink; ENOENT: nothing there (created as a file).
                if e == .EINVAL || e == .ENOENT { return current }
                throw OutputFileError(path: path, call: "readlink", errno: e)
            }
            let link = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if link.hasPrefix("/") {
                current = link
            } else {
                let slash = current.lastIndex(of: "/")
                current = (slash.map { String(current[...$0]) } ?? "") + link
            }
        }
        throw OutputFileError(path: path, call: "open", errno: .ELOOP)
    }

    static func nothingOrErrno(_ result: Int32) throws(Errno) {
        if result != 0 { throw Errno(rawValue: KernelErrno.current.rawValue) }
    }
}

/// The stop signals held back while a file is being replaced.
enum HeldStopSignals {
    static let held: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]

    static func hold() -> sigset_t {
        var set = sigset_t(), old = sigset_t()
        sigemptyset(&set)
        for signo in held { sigaddset(&set, signo) }
        pthread_sigmask(SIG_BLOCK, &set, &old)
        return old
    }

    static func release(_ old: sigset_t) {
        var old = old
        pthread_sigmask(SIG_SETMASK, &old, nil)
    }

    /// A held stop signal that has arrived, if any.
    static func pending() -> Int32? {
        var set = sigset_t()
        sigpending(&set)
        return held.first { sigismember(&set, $0) == 1 }
    }

    static func name(_ signo: Int32) -> String {
        switch signo {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGHUP: return "SIGHUP"
        case SIGQUIT: return "SIGQUIT"
        default: return "signal \(signo)"
        }
    }
}

/// Standard output and error, written whole. A closed standard output (the
/// reader of a pipe went away: `dump PID | head -c 10`) ends the tool
/// quietly with 141, the status a shell shows for a death by SIGPIPE, which
/// is what `cat` does; docs/exit-codes in the README.
public struct StandardStream: Sendable {
    public let fd: Int32
    public static let output = StandardStream(fd: 1)
    public static let error = StandardStream(fd: 2)
    /// 128 + SIGPIPE.
    public static let closedPipeExitStatus: Int32 = 141

    public func write(_ bytes: UnsafeRawBufferPointer) {
        do {
            _ = try FileDescriptor(rawValue: fd).writeAll(bytes)
        } catch Errno.brokenPipe {
            if fd == 1 { exit(Self.closedPipeExitStatus) }
        } catch {
            // Nowhere left to report a failed write of stdout or stderr.
        }
    }

    public func write(_ bytes: [UInt8]) { bytes.withUnsafeBytes { write($0) } }
    public func write(_ text: String) { write(Array(text.utf8)) }

    /// Whether the stream is a terminal (isatty).
    public var isTerminal: Bool { isatty(fd) != 0 }
}

extension ProgressLine {
    /// A progress line drawn on stderr, when stderr is a terminal.
    public static func onStandardError(label: String) -> ProgressLine {
        ProgressLine(enabled: StandardStream.error.isTerminal, label: label, draw: { StandardStream.error.write($0) })
    }
}
