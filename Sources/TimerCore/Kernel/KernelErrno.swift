/// An errno value as the kernel returns it, shared by the host and the model so
/// the model throws exactly what the real kernel returns.
public struct KernelErrno: Error, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    // x86-64 Linux values (asm-generic/errno-base.h, errno.h).
    public static let EPERM = KernelErrno(rawValue: 1)
    public static let ENOENT = KernelErrno(rawValue: 2)
    public static let ESRCH = KernelErrno(rawValue: 3)
    public static let EINTR = KernelErrno(rawValue: 4)
    public static let EIO = KernelErrno(rawValue: 5)
    public static let EAGAIN = KernelErrno(rawValue: 11)
    public static let ENOMEM = KernelErrno(rawValue: 12)
    public static let EACCES = KernelErrno(rawValue: 13)
    public static let EFAULT = KernelErrno(rawValue: 14)
    public static let EBUSY = KernelErrno(rawValue: 16)
    public static let EINVAL = KernelErrno(rawValue: 22)
    public static let ENOSYS = KernelErrno(rawValue: 38)
    public static let EOPNOTSUPP = KernelErrno(rawValue: 95)

    static let names: [Int32: (String, String)] = [
        1: ("EPERM", "Operation not permitted"),
        2: ("ENOENT", "No such file or directory"),
        3: ("ESRCH", "No such process"),
        4: ("EINTR", "Interrupted system call"),
        5: ("EIO", "Input/output error"),
        11: ("EAGAIN", "Resource temporarily unavailable"),
        12: ("ENOMEM", "Cannot allocate memory"),
        13: ("EACCES", "Permission denied"),
        14: ("EFAULT", "Bad address"),
        16: ("EBUSY", "Device or resource busy"),
        22: ("EINVAL", "Invalid argument"),
        38: ("ENOSYS", "Function not implemented"),
        95: ("EOPNOTSUPP", "Operation not supported"),
    ]

    /// The symbolic name, e.g. "EBUSY" (or "errno 42" for one we do not name).
    public var name: String { Self.names[rawValue]?.0 ?? "errno \(rawValue)" }
    /// strerror(3)'s text for the value.
    public var message: String { Self.names[rawValue]?.1 ?? "Unknown error \(rawValue)" }
    public var description: String { name }

    /// Parses a name such as "EBUSY".
    public init?(name: String) {
        guard let entry = Self.names.first(where: { $0.value.0 == name }) else { return nil }
        self.rawValue = entry.key
    }
}

/// A failed syscall with what it was called on, printed the way people know
/// from strace and CRIU: `timer_create(id=123456): EBUSY: ID already in use`.
public struct SyscallError: Error, Equatable, Sendable, CustomStringConvertible {
    public var syscall: String
    public var timerID: Int32?
    public var errno: KernelErrno
    /// What this errno means for this call (falls back to strerror's text).
    public var reason: String

    public init(_ syscall: String, timerID: Int32? = nil, errno: KernelErrno, reason: String? = nil) {
        self.syscall = syscall
        self.timerID = timerID
        self.errno = errno
        self.reason = reason ?? errno.message
    }

    public var description: String {
        let arg = timerID.map { "id=\($0)" } ?? ""
        return "\(syscall)(\(arg)): \(errno.name): \(reason)"
    }
}
