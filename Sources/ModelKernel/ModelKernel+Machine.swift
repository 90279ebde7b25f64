import TimerCore

/// A model machine is a `TimerMachine`: its processes are `ModelProcess`es,
/// restored in place (docs/architecture.md).
extension ModelKernel: TimerMachine {
    /// The profile's name, e.g. "linux-6.15" (a process says "linux-6.15 (model)").
    public var kernelName: String { profile.rawValue }
    /// IDs from a counter (docs/kernel-facts.md section 2): what the dance needs.
    public var consecutiveIDs: Bool { profile.danceWorks }
    /// linux-2.6: one IDR for the whole machine.
    public var globalIDSpace: Bool { profile.allocation == .lowestFreeGlobal }

    public func spawnProcess(threads: Int) -> ModelProcess { spawnProcess(extraThreads: threads) }

    /// Same profile, RLIMIT_SIGPENDING and RTC; no processes, time 0.
    public func rebooted() -> ModelKernel {
        let machine = ModelKernel(profile: profile, sigpendingLimit: sigpendingLimit)
        machine.hasRTC = hasRTC
        return machine
    }

    /// One machine per profile, in `KernelProfile.allCases` order: the kernels
    /// `compare` restores on.
    public static func everyProfile() -> [ModelKernel] { KernelProfile.allCases.map { ModelKernel(profile: $0) } }

    /// The machine each strategy is swept on (`compare --sweep`): the dance on
    /// a plain counter kernel (3.10-6.14), the cursor on rfd-cursor,
    /// create-at-ID on 6.15, with RLIMIT_SIGPENDING raised so 100,000 dense
    /// timers fit.
    public static func sweepMachine(for strategy: RestoreStrategy) -> ModelKernel {
        let profile: KernelProfile
        switch strategy {
        case .dance: profile = .linux310
        case .cursor: profile = .rfdCursor
        case .createAtID, .auto: profile = .linux615
        }
        return ModelKernel(profile: profile, sigpendingLimit: Int(Int32.max))
    }
}

extension ModelProcess: MachineProcess {}
