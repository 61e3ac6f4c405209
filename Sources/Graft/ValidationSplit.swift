/// Which labelled examples are held out to validate training: early stopping
/// of network strategies, and the validation metrics of every strategy.
public enum ValidationSplit: Sendable, Hashable {
    /// This fraction of each class (rounded; every class keeps one training example).
    case fraction(Double)
    /// This many examples of each class (classes with fewer keep one for training).
    case perClass(Int)
    /// Train on everything; no early stopping, no validation metrics.
    case none

    /// Train and validation indices of `labels`, stratified and seeded.
    func split(labels: [Int], seed: UInt64) -> (train: [Int], validation: [Int]) {
        switch self {
        case .none:
            return (Array(labels.indices), [])
        case let .fraction(f):
            let s = Splitter.stratified(labels: labels, validation: min(max(f, 0), 1), test: 0, seed: seed)
            return (s.train, s.validation)
        case let .perClass(n):
            // Leave at least one example of each class for training.
            var counts: [Int: Int] = [:]
            for l in labels { counts[l, default: 0] += 1 }
            var validation: [Int] = []
            for (label, count) in counts.sorted(by: { $0.key < $1.key }) where count > 1 {
                let members = labels.indices.filter { labels[$0] == label }
                validation += Splitter.sample(perClass: min(n, count - 1), labels: labels, from: members, seed: seed)
            }
            let held = Set(validation)
            return (labels.indices.filter { !held.contains($0) }, validation.sorted())
        }
    }
}
