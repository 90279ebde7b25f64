#if canImport(Glibc)
import Glibc
#endif

/// Why the kernel's ptrace access check (__ptrace_may_access, kernel/ptrace.c)
/// refused this process access to `pid`: reading /proc/PID/timers needs
/// PTRACE_MODE_READ_FSCREDS. The checks, in the kernel's order: the same
/// uid (else CAP_SYS_PTRACE), a dumpable target (else CAP_SYS_PTRACE), then
/// the LSMs: commoncap refuses a target whose permitted capabilities are not
/// a subset of the caller's effective ones unless the caller has
/// CAP_SYS_PTRACE (cap_ptrace_access_check, security/commoncap.c); Yama,
/// Landlock (a sandboxed caller may not trace outside its domain) and BPF
/// programs may refuse on their own.
enum PtraceAccess {
    static let capSysPtrace = 19

    /// One clause naming the cause, e.g. "pid 1 holds capabilities this
    /// process lacks (CAP_SYS_RESOURCE) ...".
    static func whyRefused(pid: Int32, procRoot: String = "/proc") -> String {
        let target = ProcFS.status(pid: pid, procRoot: procRoot)
        let own = try? ProcFS.status(procRoot + "/self")
        var causes: [String] = []
        let ownEffective = own?.effectiveCapabilities
        let hasSysPtrace = ownEffective.map { $0 & (1 << UInt64(capSysPtrace)) != 0 } ?? false
        // The target's real uid against the caller's filesystem uid.
        if let targetUID = target?.userIDs?.first, let ownUID = own?.userIDs?.last, targetUID != ownUID, !hasSysPtrace {
            causes.append("it belongs to uid \(targetUID) and this process (fsuid \(ownUID)) has no CAP_SYS_PTRACE")
        }
        if causes.isEmpty, let permitted = target?.permittedCapabilities, let ownEffective {
            let lacking = permitted & ~ownEffective
            if lacking != 0 {
                let names = (0..<64).filter { lacking & (1 << UInt64($0)) != 0 }.map(capabilityName)
                let listed = names.count > 4 ? names.prefix(3).joined(separator: ", ") + " and \(names.count - 3) more"
                    : names.joined(separator: ", ")
                var clause = "pid \(pid) holds capabilities this process lacks (\(listed))"
                clause += hasSysPtrace
                    ? "; CAP_SYS_PTRACE would override that, so an LSM (Landlock: a sandbox may not trace outside its domain, or a BPF program) refuses it"
                    : " and it has no CAP_SYS_PTRACE"
                causes.append(clause)
            }
        }
        if let value = ProcFS.yamaPtraceScope(procRoot: procRoot), value >= 2 {
            causes.append("Yama ptrace_scope is \(value)")
        }
        if causes.isEmpty {
            return hasSysPtrace
                ? "this process has CAP_SYS_PTRACE, so an LSM (Landlock or a BPF program) refuses it"
                : "reading it needs the right to ptrace the process: run as its owner or with CAP_SYS_PTRACE"
        }
        return causes.joined(separator: "; ")
    }

    /// include/uapi/linux/capability.h names.
    static func capabilityName(_ bit: Int) -> String {
        let names = ["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
                     "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
                     "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
                     "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
                     "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
                     "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"]
        return bit < names.count ? "CAP_" + names[bit] : "capability \(bit)"
    }
}
