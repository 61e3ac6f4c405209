import Foundation
import Synchronization

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

/// Progress on standard error, as the CLI shows it: a redrawn one-line bar when stderr is a
/// terminal; otherwise (a log file, a pipe, CI) plain lines, one per 10% of a phase or every 5
/// seconds, whichever comes first, plus the last. `quiet` shows nothing.
public final class TerminalProgressBar: Sendable {
    /// How the bar is drawn.
    public enum Style: Sendable { case bar, lines, off }

    /// What was drawn last: when, and for plain lines the phase/epoch and the tenth it reached.
    private struct Drawn {
        var at = Date.distantPast
        var stage: String?
        var tenth = -1
    }

    private let drawn = Mutex(Drawn())
    public let style: Style
    private let write: @Sendable (String) -> Void

    /// `bar` when stderr is a terminal, `lines` when it is not, `off` when quiet.
    public convenience init(quiet: Bool) {
        self.init(style: quiet ? .off : (isatty(2) != 0 ? .bar : .lines))
    }

    /// `enabled: false` is `quiet`.
    public convenience init(enabled: Bool = true) { self.init(quiet: !enabled) }

    public init(style: Style, write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.style = style
        self.write = write
    }

    public var handler: ProgressHandler { { [self] e in self.draw(e) } }

    public func draw(_ e: ProgressEvent) {
        drawn.withLock { last in
            switch style {
            case .off: return
            case .bar: drawBar(e, last: &last)
            case .lines: drawLine(e, last: &last)
            }
        }
    }

    private func drawBar(_ e: ProgressEvent, last: inout Drawn) {
        let done = e.completed >= e.total
        guard done || Date().timeIntervalSince(last.at) > 0.2 else { return }
        last.at = Date()
        let width = 24
        let fraction = e.total > 0 ? min(1, Double(e.completed) / Double(e.total)) : 1
        let filled = Int(fraction * Double(width))
        let bar = " [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
        write("\r" + Self.describe(e, bar: bar) + "\u{1B}[K" + (done ? "\n" : ""))
    }

    private func drawLine(_ e: ProgressEvent, last: inout Drawn) {
        let stage = "\(e.phase.rawValue) \(e.epoch ?? -1)"
        if stage != last.stage { last.stage = stage; last.tenth = -1 }
        let done = e.completed >= e.total
        let tenth = e.total > 0 ? min(10, e.completed * 10 / e.total) : 10
        guard done || tenth > last.tenth || Date().timeIntervalSince(last.at) >= 5 else { return }
        if done && last.tenth == 10 { return }  // the last line of this phase is already out
        last.tenth = max(last.tenth, tenth)
        last.at = Date()
        let percent = e.total > 0 ? String(format: " (%d%%)", Int(Double(e.completed) * 100 / Double(e.total))) : ""
        write(Self.describe(e, bar: "") + percent + "\n")
    }

    /// `phase[ bar] completed/total epoch rate ETA loss metrics`.
    static func describe(_ e: ProgressEvent, bar: String) -> String {
        let done = e.completed >= e.total
        var line = e.phase.rawValue + bar + " \(e.completed)/\(e.total)"
        if let epoch = e.epoch { line += " epoch \(epoch + 1)" }
        if let r = e.rate { line += String(format: " %.1f/s", r) }
        if let eta = e.etaSeconds, !done { line += " ETA \(format(eta))" }
        if let l = e.loss { line += String(format: " loss %.4f", l) }
        for (k, v) in e.metrics.sorted(by: { $0.key < $1.key }) { line += String(format: " %@ %.4f", k, v) }
        return line
    }

    static func format(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}
