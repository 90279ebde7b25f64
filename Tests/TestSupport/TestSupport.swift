// Shared helpers for the test targets (starting fixtures, running the built binary).
import Foundation

/// What every dump without --values says on stderr, last (its itimers need getitimer in the process).
public let itimersNotReadNote = "timer-criu: note: interval timers (setitimer, alarm) not read: only the process itself "
    + "can ask for them (getitimer), so they need --values"
