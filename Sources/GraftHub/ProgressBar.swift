import Foundation

/// A one-line download bar on stderr, redrawn at most ten times a second.
/// Created only when stderr is a terminal (`HubEnvironment.showsProgress`).
public final class ProgressBar: @unchecked Sendable {
    private let label: String
    private var total: Int64?
    private var done: Int64 = 0
    private var startDone: Int64 = 0
    private var started = Date()
    private var lastDraw = Date.distantPast
    private var active = false
    private let lock = NSLock()

    public init(label: String) { self.label = label }

    func start(total: Int64?, done: Int64) {
        lock.withLock { self.total = total; self.done = done; startDone = done; started = Date(); active = true }
        draw(force: true)
    }

    func advance(by n: Int64) {
        lock.withLock { done += n }
        draw(force: false)
    }

    func finish() {
        guard lock.withLock({ active }) else { return }
        draw(force: true)
        lock.withLock { active = false }
        FileHandle.standardError.write(Data("\n".utf8))
    }

    private func draw(force: Bool) {
        let line: String? = lock.withLock {
            let now = Date()
            guard force || now.timeIntervalSince(lastDraw) >= 0.1 else { return nil }
            lastDraw = now
            let mb = { (b: Int64) in String(format: "%.1f", Double(b) / 1e6) }
            let rate = Double(done - startDone) / max(1e-3, now.timeIntervalSince(started)) / 1e6
            if let total, total > 0 {
                let fraction = min(1, Double(done) / Double(total))
                let filled = Int(fraction * 30)
                return "\r\(label) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: 30 - filled))] "
                    + String(format: "%3.0f%% ", fraction * 100) + "\(mb(done))/\(mb(total)) MB " + String(format: "%.1f MB/s", rate)
            }
            return "\r\(label) \(mb(done)) MB " + String(format: "%.1f MB/s", rate)
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }
}
