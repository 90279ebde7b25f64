import ArgumentParser

/// `dump`'s hidden options, set only by tests: another procfs root (to play a
/// kernel without `timers`), and a pause between reading the threads and the
/// timers (to kill the process mid-read).
struct DumpTestHooks: ParsableArguments {
    @Option(name: .customLong("proc-root"), help: .private)
    var procRoot: String = "/proc"
    @Option(name: .customLong("debug-pause-ms"), help: .private)
    var pauseMilliseconds: Int64 = 0
}
