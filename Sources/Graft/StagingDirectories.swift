import Foundation
import Synchronization
import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import GraftText
import GraftTransfer

/// The staging folders of trained models still alive. A model removes its
/// folder when it is released; the ones still registered when the process
/// exits (globals of a `main.swift` are never released) are removed then.
final class StagingDirectories: Sendable {
    static let shared = StagingDirectories()
    private struct State { var live: Set<URL> = []; var hookInstalled = false }
    private let state = Mutex(State())

    func register(_ url: URL) {
        let install = state.withLock { s in
            s.live.insert(url)
            defer { s.hookInstalled = true }
            return !s.hookInstalled
        }
        if install { atexit { StagingDirectories.shared.removeAll() } }
    }

    func remove(_ url: URL) {
        _ = state.withLock { $0.live.remove(url) }
        try? FileManager.default.removeItem(at: url)
    }

    func removeAll() {
        let all = state.withLock { s in defer { s.live = [] }; return s.live }
        for url in all { try? FileManager.default.removeItem(at: url) }
    }
}
