import GraftTensor

/// What a load matched, and what it could not.
public struct LoadReport: Sendable, CustomStringConvertible {
    public var loaded: [String] = []
    /// Keys the module has that the weights lack.
    public var missing: [String] = []
    /// Keys the weights have that the module lacks.
    public var unexpected: [String] = []
    /// (key, module shape, file shape)
    public var mismatched: [(String, [Int], [Int])] = []

    public var isComplete: Bool { missing.isEmpty && unexpected.isEmpty && mismatched.isEmpty }

    /// Counts and the first `LoadReport.shown` names of each list: a wrong
    /// architecture misses hundreds of keys, and a screenful of names hides the cause.
    public var description: String { render(limit: Self.shown) }

    /// Every name (what `--verbose` prints).
    public var fullDescription: String { render(limit: nil) }

    /// Names listed per category in `description`.
    public static let shown = 5

    private func render(limit: Int?) -> String {
        func list(_ names: [String]) -> String {
            guard let limit, names.count > limit else { return names.joined(separator: ", ") }
            return names.prefix(limit).joined(separator: ", ") + ", ... and \(names.count - limit) more"
        }
        var lines = ["loaded \(loaded.count) tensors"]
        if !missing.isEmpty { lines.append("missing (\(missing.count)): " + list(missing)) }
        if !unexpected.isEmpty { lines.append("unexpected (\(unexpected.count)): " + list(unexpected)) }
        if !mismatched.isEmpty {
            let shown = limit.map { Array(mismatched.prefix($0)) } ?? mismatched
            for (k, a, b) in shown { lines.append("shape mismatch \(k): module \(a), weights \(b)") }
            if shown.count < mismatched.count { lines.append("... and \(mismatched.count - shown.count) more shape mismatches") }
        }
        if limit != nil && (missing.count > Self.shown || unexpected.count > Self.shown || mismatched.count > Self.shown) {
            lines.append("(is the architecture right for these weights? --verbose lists every name)")
        }
        return lines.joined(separator: "\n")
    }
}

public enum LoadError: Error, CustomStringConvertible {
    /// Strict load failed; lists every offending key at once.
    case incompatible(source: String, report: LoadReport)

    public var description: String {
        switch self {
        case let .incompatible(source, report): return "cannot load \(source):\n\(report)"
        }
    }

    /// The description with every offending name listed.
    public var fullDescription: String {
        switch self {
        case let .incompatible(source, report): return "cannot load \(source):\n\(report.fullDescription)"
        }
    }
}

extension Module {
    /// Copies `weights` into the module's parameters and buffers by key.
    /// Strict (default): any missing, unexpected or mismatched key is an error
    /// and nothing is written. Non-strict: loads the matching subset and
    /// reports the rest (how a new head is grafted onto a pretrained trunk).
    @discardableResult
    public func load(_ weights: [String: Tensor], strict: Bool = true, source: String = "weights") throws -> LoadReport {
        var report = LoadReport()
        let own = stateDict()
        var plan: [(Tensor, Tensor)] = []
        let ownKeys = Set(own.map(\.0))
        for (key, target) in own {
            guard let value = weights[key] else {
                // PyTorch counts batches; older checkpoints lack the counter.
                if !key.hasSuffix("num_batches_tracked") { report.missing.append(key) }
                continue
            }
            if value.count == target.count && (value.shape == target.shape || target.shape.isEmpty || value.shape.isEmpty) {
                plan.append((target, value)); report.loaded.append(key)
            } else {
                report.mismatched.append((key, target.shape, value.shape))
            }
        }
        report.unexpected = weights.keys.filter { !ownKeys.contains($0) }.sorted()
        if strict && !report.isComplete { throw LoadError.incompatible(source: source, report: report) }
        for (target, value) in plan {
            target.withMutableValues { dst in dst.baseAddress!.update(from: value.pointer, count: dst.count) }
        }
        return report
    }
}
