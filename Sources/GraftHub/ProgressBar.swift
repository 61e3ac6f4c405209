import Foundation
import Synchronization

/// A one-line download bar on stderr, redrawn at most ten times a second.
/// Created only when stderr is a terminal (`HubEnvironment.showsProgress`).
public final class ProgressBar: Sendable {
    private struct State {
        var total: Int64?
        var done: Int64 = 0
        var startDone: Int64 = 0
        var started = Date()
        var lastDraw = Date.distantPast
        var active = false
    }

    private let label: String
    private let state = Mutex(State())

    public init(label: String) { self.label = label }

    func start(total: Int64?, done: Int64) {
        state.withLock { $0 = State(total: total, done: done, startDone: done, started: Date(), active: true) }
        draw(force: true)
    }

    func advance(by n: Int64) {
        state.withLock { $0.done += n }
        draw(force: false)
    }

    func finish() {
        guard state.withLock({ $0.active }) else { return }
        draw(force: true)
        state.withLock { $0.active = false }
        FileHandle.standardError.write(Data("\n".utf8))
    }

    private func draw(force: Bool) {
        let line: String? = state.withLock { s in
            let now = Date()
            guard force || now.timeIntervalSince(s.lastDraw) >= 0.1 else { return nil }
            s.lastDraw = now
            let mb = { (b: Int64) in String(format: "%.1f", Double(b) / 1e6) }
            let rate = Double(s.done - s.startDone) / max(1e-3, now.timeIntervalSince(s.started)) / 1e6
            if let total = s.total, total > 0 {
                let fraction = min(1, Double(s.done) / Double(total))
                let filled = Int(fraction * 30)
                return "\r\(label) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: 30 - filled))] "
                    + String(format: "%3.0f%% ", fraction * 100) + "\(mb(s.done))/\(mb(total)) MB " + String(format: "%.1f MB/s", rate)
            }
            return "\r\(label) \(mb(s.done)) MB " + String(format: "%.1f MB/s", rate)
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }
}
