import Foundation

/// One observation of a long job: what it is doing and how far it got.
public struct ProgressEvent: Sendable, Equatable {
    public enum Phase: String, Sendable, Codable { case extracting, fitting, training, validating, evaluating, finished }
    public var phase: Phase
    public var completed: Int
    public var total: Int
    public var epoch: Int?
    public var loss: Double?
    public var metrics: [String: Double] = [:]
    /// Items per second over the job so far.
    public var rate: Double?
    public var etaSeconds: Double?

    public init(phase: Phase, completed: Int, total: Int, epoch: Int? = nil, loss: Double? = nil,
                metrics: [String: Double] = [:], rate: Double? = nil, etaSeconds: Double? = nil) {
        self.phase = phase; self.completed = completed; self.total = total; self.epoch = epoch
        self.loss = loss; self.metrics = metrics; self.rate = rate; self.etaSeconds = etaSeconds
    }
}

/// Receives progress; the CLI draws a bar, the library API feeds an AsyncSequence.
public typealias ProgressHandler = @Sendable (ProgressEvent) -> Void

/// Measures rate and ETA for a job of known size.
public struct ProgressMeter: Sendable {
    public let phase: ProgressEvent.Phase
    public let total: Int
    private let start = Date()
    private let startCount: Int

    public init(phase: ProgressEvent.Phase, total: Int, alreadyDone: Int = 0) {
        self.phase = phase; self.total = total; self.startCount = alreadyDone
    }

    public func event(completed: Int, epoch: Int? = nil, loss: Double? = nil, metrics: [String: Double] = [:]) -> ProgressEvent {
        let elapsed = max(Date().timeIntervalSince(start), 1e-6)
        let rate = Double(completed - startCount) / elapsed
        let eta = rate > 0 ? Double(total - completed) / rate : nil
        return ProgressEvent(phase: phase, completed: completed, total: total, epoch: epoch, loss: loss,
                             metrics: metrics, rate: rate, etaSeconds: eta)
    }
}

/// A one-line terminal progress bar on standard error: bar, count, rate, ETA, loss.
public final class TerminalProgressBar: @unchecked Sendable {
    private let lock = NSLock()
    private var lastDraw = Date.distantPast
    private let enabled: Bool

    public init(enabled: Bool = true) { self.enabled = enabled }

    public var handler: ProgressHandler { { [self] e in self.draw(e) } }

    public func draw(_ e: ProgressEvent) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        let done = e.completed >= e.total
        guard done || Date().timeIntervalSince(lastDraw) > 0.2 else { return }
        lastDraw = Date()
        let width = 24
        let fraction = e.total > 0 ? min(1, Double(e.completed) / Double(e.total)) : 1
        let filled = Int(fraction * Double(width))
        var line = "\r\(e.phase.rawValue) [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
        line += " \(e.completed)/\(e.total)"
        if let epoch = e.epoch { line += " epoch \(epoch + 1)" }
        if let r = e.rate { line += String(format: " %.1f/s", r) }
        if let eta = e.etaSeconds, !done { line += " ETA \(Self.format(eta))" }
        if let l = e.loss { line += String(format: " loss %.4f", l) }
        for (k, v) in e.metrics.sorted(by: { $0.key < $1.key }) { line += String(format: " %@ %.4f", k, v) }
        FileHandle.standardError.write(Data((line + "\u{1B}[K" + (done ? "\n" : "")).utf8))
    }

    static func format(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}
