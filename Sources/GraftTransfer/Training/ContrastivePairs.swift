import GraftTensor

/// Sentence pairs for contrastive tuning, as SetFit builds them (`sentence_pairs_generation`, setfit 0.x):
/// each of `iterations` rounds walks every labelled item in order and draws one positive partner (an
/// item of the same class, possibly itself) and one negative partner (an item of another class), so a
/// round yields `2 * items` pairs, half labelled 1 and half 0. Seeded: the same labels, iterations and
/// seed give the same pairs.
public struct ContrastivePairs: Sendable, Equatable {
    /// Positions into the labelled items (not data set indices).
    public var first: [Int]
    public var second: [Int]
    /// 1 for a same-class pair, 0 for a different-class pair.
    public var similarity: [Float]

    public var count: Int { first.count }

    /// Pairs of the items whose classes are `labels`; throws when no class has a partner of another class.
    public static func make(labels: [Int], iterations: Int, seed: UInt64) throws -> ContrastivePairs {
        guard iterations > 0 else { throw TransferError.unsupported("contrastive tuning needs at least one pair iteration, got \(iterations)") }
        guard Set(labels).count >= 2 else {
            throw TransferError.singleClass("contrastive pairs need items of at least two classes (\(labels.count) items of \(Set(labels).count) class)")
        }
        var byClass: [Int: [Int]] = [:]
        for (position, label) in labels.enumerated() { byClass[label, default: []].append(position) }
        let others = Dictionary(uniqueKeysWithValues: byClass.keys.map { c in (c, labels.indices.filter { labels[$0] != c }) })
        var generator = SeededGenerator(seed: seed &+ 0x5E7F)
        var pairs = ContrastivePairs(first: [], second: [], similarity: [])
        pairs.first.reserveCapacity(2 * iterations * labels.count)
        for _ in 0..<iterations {
            for (position, label) in labels.enumerated() {
                let same = byClass[label]!, different = others[label]!
                pairs.append(position, same[Int.random(in: 0..<same.count, using: &generator)], 1)
                pairs.append(position, different[Int.random(in: 0..<different.count, using: &generator)], 0)
            }
        }
        return pairs
    }

    mutating func append(_ a: Int, _ b: Int, _ s: Float) { first.append(a); second.append(b); similarity.append(s) }

    /// The pairs in a seeded random order (the shuffled data loader of sentence-transformers' `fit`).
    public func shuffled(seed: UInt64) -> ContrastivePairs {
        var order = Array(0..<count)
        var generator = SeededGenerator(seed: seed)
        order.shuffle(using: &generator)
        return ContrastivePairs(first: order.map { first[$0] }, second: order.map { second[$0] }, similarity: order.map { similarity[$0] })
    }
}
