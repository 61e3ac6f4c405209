/// Graft's version: the one place `graft --version`, `graft doctor` and JSON outputs read it from. A release
/// is the git tag of this exact string (CHANGELOG.md); scripts/consumer-check.sh tags a clone with it.
enum GraftVersion {
    static let current = "0.2.0"
}
