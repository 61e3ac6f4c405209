import Foundation

/// k nearest neighbours by cosine distance: the head remembers the L2-normalised training rows and
/// their labels; an item gets the label most of its `k` nearest rows carry. A tie between labels goes
/// to the one whose tied neighbours are nearer in total (smaller sum of distances), then to the
/// smaller label. Scores are vote shares, as scikit-learn's `KNeighborsClassifier(metric="cosine")
/// .predict_proba`.
public struct NearestNeighborsHead: ClassifierHead, Codable, Equatable {
    public var kind: HeadKind { .nearestNeighbors }
    public var classes: [Int]
    public var featureCount: Int
    /// Neighbours that vote (at most the number of remembered rows).
    public var k: Int
    /// Remembered rows, L2-normalised, `[labels.count, featureCount]` row-major.
    public var examples: [Float]
    /// The label of each remembered row.
    public var labels: [Int]

    public var givesProbabilities: Bool { true }
    public var parameterCount: Int { examples.count }
    public var regularisation: Double? { nil }

    /// Remembers `x` (normalised here) and `labels`; nothing is fitted.
    public static func fit(_ x: FeatureMatrix, labels: [Int], k: Int) throws(HeadsError) -> (head: NearestNeighborsHead, summary: TrainingSummary) {
        let start = Date()
        try validateTrainingData(x, labels: labels)
        if let bad = x.firstNonFinite() { throw .nonFiniteFeature(what: "training features", row: bad.row, column: bad.column) }
        let head = try NearestNeighborsHead(classes: Array(Set(labels)).sorted(), featureCount: x.columns, k: k,
                                            examples: x.l2NormalizedRows().values, labels: labels)
        let summary = TrainingSummary(iterations: 0, objective: 0, stop: .closedForm, seconds: Date().timeIntervalSince(start),
                                      C: 0, crossValidation: nil)
        return (head, summary)
    }

    /// A head from its parts (for example read back from a bundle); checks that they agree.
    public init(classes: [Int], featureCount: Int, k: Int, examples: [Float], labels: [Int]) throws(HeadsError) {
        self.classes = classes; self.featureCount = featureCount; self.k = k; self.examples = examples; self.labels = labels
        try validate()
    }

    public func validate() throws(HeadsError) {
        guard classes.count >= 2 else { throw .singleClass(label: classes.first ?? 0, rows: labels.count) }
        guard featureCount > 0, !labels.isEmpty else { throw .emptyData(what: "k-NN remembered rows") }
        guard k >= 1 else { throw .invalidOption(name: "k", reason: "must be at least 1, got \(k)") }
        guard examples.count == labels.count * featureCount else {
            throw .shapeMismatch(what: "k-NN rows", expected: [labels.count, featureCount], got: [examples.count])
        }
        let known = Set(classes)
        if let stray = labels.first(where: { !known.contains($0) }) {
            throw .invalidOption(name: "labels", reason: "label \(stray) is not among the classes \(classes)")
        }
    }

    /// The neighbours that vote: `min(k, rows)`.
    var voters: Int { min(k, labels.count) }

    /// For each row of `x`, its `voters` nearest remembered rows (index, cosine distance), nearest first.
    public func neighbors(_ x: FeatureMatrix) throws(HeadsError) -> [[(index: Int, distance: Float)]] {
        try validate()
        guard x.columns == featureCount else {
            throw .shapeMismatch(what: "features for head", expected: [x.rows, featureCount], got: [x.rows, x.columns])
        }
        let n = labels.count, d = featureCount, kk = voters
        if x.rows == 0 { return [] }
        var similarity = FeatureMatrix(zerosRows: x.rows, columns: n)
        let q = x.l2NormalizedRows()
        try q.values.withUnsafeBufferPointer { (qv) throws(HeadsError) in
            try examples.withUnsafeBufferPointer { (ev) throws(HeadsError) in
                try similarity.withUnsafeMutableValues { (s) throws(HeadsError) in
                    try Sgemm.multiply(transposeA: false, transposeB: true, m: x.rows, n: n, k: d, a: qv.baseAddress!, lda: d,
                                       b: ev.baseAddress!, ldb: d, c: s.baseAddress!, ldc: n)
                }
            }
        }
        return (0..<x.rows).map { r in
            // Keep the kk most similar, nearest first (ties by row order, as a stable selection).
            var best: [(index: Int, distance: Float)] = []
            best.reserveCapacity(kk + 1)
            for i in 0..<n {
                let distance = 1 - similarity[r, i]
                if best.count == kk, distance >= best[kk - 1].distance { continue }
                var at = best.count
                while at > 0, best[at - 1].distance > distance { at -= 1 }
                best.insert((i, distance), at: at)
                if best.count > kk { best.removeLast() }
            }
            return best
        }
    }

    /// Vote counts `[rows, classes]`.
    public func decisionFunction(_ x: FeatureMatrix) throws(HeadsError) -> FeatureMatrix {
        let column = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        var votes = FeatureMatrix(zerosRows: x.rows, columns: classes.count)
        for (r, near) in try neighbors(x).enumerated() {
            for n in near { votes[r, column[labels[n.index]]!] += 1 }
        }
        return votes
    }

    public func classScores(_ x: FeatureMatrix) throws(HeadsError) -> FeatureMatrix {
        var shares = try decisionFunction(x)
        let total = Float(voters)
        shares.withUnsafeMutableValues { v in for i in 0..<v.count { v[i] /= total } }
        return shares
    }

    public func predict(_ x: FeatureMatrix) throws(HeadsError) -> [Int] {
        try neighbors(x).map { near in
            var votes: [Int: (count: Int, distance: Double)] = [:]
            for n in near {
                let label = labels[n.index]
                votes[label, default: (0, 0)].count += 1
                votes[label, default: (0, 0)].distance += Double(n.distance)
            }
            return votes.min { a, b in
                if a.value.count != b.value.count { return a.value.count > b.value.count }
                if a.value.distance != b.value.distance { return a.value.distance < b.value.distance }
                return a.key < b.key
            }!.key
        }
    }
}
