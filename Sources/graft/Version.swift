/// Graft's version: the one place `graft --version`, `graft doctor` and JSON outputs read it from.
enum GraftVersion {
    static let current = "0.1.0"
}
