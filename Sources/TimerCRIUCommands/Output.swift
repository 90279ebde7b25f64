#if canImport(Glibc)
import Glibc
#endif

func Foundation_exit(_ code: Int32) -> Never { Glibc.exit(code) }
