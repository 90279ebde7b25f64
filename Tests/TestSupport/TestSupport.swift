// Shared helpers for the test targets (starting fixtures, running the built binary).
import Foundation
