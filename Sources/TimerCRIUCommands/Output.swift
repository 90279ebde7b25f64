#if canImport(Glibc)
import Glibc
#endif

/// Glibc's exit(3), reachable inside commands (where `exit` names
/// ParsableCommand.exit(withError:)).
func exitProcess(_ code: Int32) -> Never { Glibc.exit(code) }
