import Foundation

/// The staging folders of trained models still alive. A model removes its
/// folder when it is released; the ones still registered when the process
/// exits (globals of a `main.swift` are never released) are removed then.
final class StagingDirectories: @unchecked Sendable {
    static let shared = StagingDirectories()
    private let lock = NSLock()
    private var live: Set<URL> = []
    private var hookInstalled = false

    func register(_ url: URL) {
        lock.lock(); defer { lock.unlock() }
        live.insert(url)
        if !hookInstalled {
            hookInstalled = true
            atexit { StagingDirectories.shared.removeAll() }
        }
    }

    func remove(_ url: URL) {
        lock.lock()
        live.remove(url)
        lock.unlock()
        try? FileManager.default.removeItem(at: url)
    }

    func removeAll() {
        lock.lock()
        let all = live
        live = []
        lock.unlock()
        for url in all { try? FileManager.default.removeItem(at: url) }
    }
}
