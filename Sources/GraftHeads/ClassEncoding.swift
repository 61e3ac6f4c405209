/// How training rows are weighted per class.
public enum ClassWeighting: Codable, Sendable, Equatable {
    /// Every row counts once.
    case uniform
    /// `rows / (classes * rowsOfClass)`, scikit-learn's `class_weight="balanced"`.
    case balanced
    /// A weight per class label; labels not listed weigh 1.
    case custom([Int: Double])
}

/// The sorted distinct training labels, each row's class index and per-row weights.
struct ClassEncoding: Sendable {
    let classes: [Int]
    let index: [Int: Int]
    /// Class index of each row.
    let encoded: [Int32]
    /// Rows per class index.
    let counts: [Int]

    /// Encodes `labels`; requires at least two distinct labels among `rows` (all rows when nil).
    init(labels: [Int], rows: [Int]? = nil) throws(HeadsError) {
        guard !labels.isEmpty else { throw .emptyData(what: "training labels") }
        let used = rows.map { $0.map { labels[$0] } } ?? labels
        let classes = Array(Set(used)).sorted()
        guard classes.count >= 2 else { throw .singleClass(label: classes.first ?? 0, rows: used.count) }
        var index = [Int: Int]()
        for (i, c) in classes.enumerated() { index[c] = i }
        var counts = [Int](repeating: 0, count: classes.count)
        // Rows outside `rows` keep their class index when it exists (they get weight 0 anyway).
        let encoded = labels.map { Int32(index[$0] ?? 0) }
        for l in used { if let c = index[l] { counts[c] += 1 } }
        self.classes = classes
        self.index = index
        self.encoded = encoded
        self.counts = counts
    }

    /// The weight of each class index.
    func classWeights(_ weighting: ClassWeighting) -> [Double] {
        switch weighting {
        case .uniform:
            return [Double](repeating: 1, count: classes.count)
        case .balanced:
            let total = Double(counts.reduce(0, +))
            return counts.map { total / (Double(classes.count) * Double(max($0, 1))) }
        case let .custom(table):
            return classes.map { table[$0] ?? 1 }
        }
    }

    /// Per-row weights: the class weight of the row, or 0 for rows outside `rows`.
    func rowWeights(_ weighting: ClassWeighting, rows: [Int]? = nil) -> [Float] {
        let perClass = classWeights(weighting)
        if let rows {
            var w = [Float](repeating: 0, count: encoded.count)
            for r in rows { w[r] = Float(perClass[Int(encoded[r])]) }
            return w
        }
        return encoded.map { Float(perClass[Int($0)]) }
    }
}
