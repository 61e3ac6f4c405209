/// Whether operations record onto the autodiff tape. Off inside `withNoGrad`,
/// which is how frozen trunks and feature extraction run with flat memory.
public enum GradMode {
    @TaskLocal public static var isEnabled = true
}

/// Runs `body` without recording a tape: results have no gradient history.
public func withNoGrad<T>(_ body: () throws -> T) rethrows -> T {
    try GradMode.$isEnabled.withValue(false) { try body() }
}

public func withNoGrad<T>(_ body: () async throws -> T) async rethrows -> T {
    try await GradMode.$isEnabled.withValue(false) { try await body() }
}
