import GraftCore
/// Train / validation / test indices of one data set.
public struct DatasetSplit: Sendable, Equatable {
    public var train: [Int]
    public var validation: [Int]
    public var test: [Int]
}

/// Seeded, stratified ways to pick items. Every class is shuffled with its own
/// stream (`SeededGenerator(seed:, epoch: 0, index: class)`), so one class's picks do
/// not change when another class grows. Returned indices are in ascending order.
public enum Splitter {
    /// Splits each class by the given fractions (rounded per class; the training
    /// part keeps at least one item of every class that has one).
    public static func stratified(labels: [Int], validation: Double = 0.1, test: Double = 0.1,
                                  seed: UInt64 = 0) -> DatasetSplit {
        var split = DatasetSplit(train: [], validation: [], test: [])
        for (label, members) in byClass(labels, pool: nil) {
            var shuffled = members
            var generator = SeededGenerator(seed: seed, epoch: 0, index: label)
            generator.shuffle(&shuffled)
            let n = shuffled.count
            var nTest = Int((Double(n) * max(0, test)).rounded())
            var nValidation = Int((Double(n) * max(0, validation)).rounded())
            // Keep one training example when the rounding would take them all.
            while nTest + nValidation >= n && n > 0 && nTest + nValidation > 0 {
                if nValidation >= nTest && nValidation > 0 { nValidation -= 1 } else { nTest -= 1 }
            }
            split.test += shuffled[0..<nTest]
            split.validation += shuffled[nTest..<(nTest + nValidation)]
            split.train += shuffled[(nTest + nValidation)...]
        }
        split.train.sort(); split.validation.sort(); split.test.sort()
        return split
    }

    /// Up to `perClass` items of every class, drawn from `pool` (default: all
    /// indices), for few-shot experiments. Classes with fewer items give all they have.
    public static func sample(perClass: Int, labels: [Int], from pool: [Int]? = nil, seed: UInt64 = 0) -> [Int] {
        var picked: [Int] = []
        for (label, members) in byClass(labels, pool: pool) {
            var shuffled = members
            var generator = SeededGenerator(seed: seed, epoch: 1, index: label)
            generator.shuffle(&shuffled)
            picked += shuffled.prefix(max(0, perClass))
        }
        return picked.sorted()
    }

    /// Indices grouped by label, classes ascending, members ascending.
    private static func byClass(_ labels: [Int], pool: [Int]?) -> [(Int, [Int])] {
        var groups: [Int: [Int]] = [:]
        for i in Set(pool ?? Array(labels.indices)).sorted() where i >= 0 && i < labels.count {
            groups[labels[i], default: []].append(i)
        }
        return groups.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
