import GraftCore
/// One train/validation split of row indices.
public struct Fold: Sendable, Equatable {
    public var train: [Int]
    public var validation: [Int]
}

/// Stratified, seeded k-fold splitting: each class's rows are shuffled and dealt round-robin to the
/// folds, continuing where the previous class stopped, so every fold holds each class in proportion
/// and fold sizes differ by at most one. (Same guarantees as scikit-learn's `StratifiedKFold`, not
/// the same assignment.)
public struct StratifiedKFold: Sendable {
    public var folds: Int
    public var seed: UInt64

    public init(folds: Int = 5, seed: UInt64 = 0) {
        self.folds = folds
        self.seed = seed
    }

    /// Splits rows by `labels`; each class needs at least `folds` rows.
    public func split(labels: [Int]) throws(HeadsError) -> [Fold] {
        guard folds >= 2 else { throw .invalidOption(name: "folds", reason: "need at least 2, got \(folds)") }
        guard !labels.isEmpty else { throw .emptyData(what: "labels to split") }
        var byClass = [Int: [Int]]()
        for (i, l) in labels.enumerated() { byClass[l, default: []].append(i) }
        var generator = SeededGenerator(seed: seed)
        var assignment = [Int](repeating: 0, count: labels.count)
        var next = 0
        for label in byClass.keys.sorted() {
            var rows = byClass[label] ?? []
            guard rows.count >= folds else {
                throw .tooFewExamplesForCrossValidation(label: label, count: rows.count, folds: folds)
            }
            rows.shuffle(using: &generator)
            for r in rows {
                assignment[r] = next
                next = (next + 1) % folds
            }
        }
        return (0..<folds).map { f in
            Fold(train: labels.indices.filter { assignment[$0] != f },
                 validation: labels.indices.filter { assignment[$0] == f })
        }
    }
}

/// The result of choosing C by cross-validated accuracy.
public struct CrossValidationResult: Codable, Sendable, Equatable {
    public var folds: Int
    /// The candidate values of C, ascending.
    public var grid: [Double]
    /// Validation accuracy per grid value (outer) and fold (inner).
    public var foldAccuracy: [[Double]]
    /// Mean validation accuracy per grid value.
    public var meanAccuracy: [Double]
    /// The C with the highest mean accuracy (the smallest such C on ties: more regularisation).
    public var chosenC: Double

    init(folds: Int, grid: [Double], foldAccuracy: [[Double]]) {
        self.folds = folds
        self.grid = grid
        self.foldAccuracy = foldAccuracy
        meanAccuracy = foldAccuracy.map { $0.reduce(0, +) / Double(max($0.count, 1)) }
        var best = 0
        for i in meanAccuracy.indices where meanAccuracy[i] > meanAccuracy[best] { best = i }
        chosenC = grid[best]
    }
}

/// Checks a grid of C values and returns it sorted ascending.
func validatedGrid(_ grid: [Double]) throws(HeadsError) -> [Double] {
    guard !grid.isEmpty else { throw .invalidOption(name: "cGrid", reason: "empty") }
    if let bad = grid.first(where: { !($0 > 0) || !$0.isFinite }) {
        throw .invalidOption(name: "cGrid", reason: "values must be finite and > 0, got \(bad)")
    }
    return Array(Set(grid)).sorted()
}

/// Checks that features and labels agree and are non-empty.
func validateTrainingData(_ x: FeatureMatrix, labels: [Int]) throws(HeadsError) {
    guard x.rows > 0, x.columns > 0 else { throw .emptyData(what: "training features [\(x.rows), \(x.columns)]") }
    guard labels.count == x.rows else { throw .labelCountMismatch(rows: x.rows, labels: labels.count) }
}

/// Validates class weights.
func validateWeighting(_ weighting: ClassWeighting) throws(HeadsError) {
    if case let .custom(table) = weighting, let bad = table.first(where: { !($0.value > 0) || !$0.value.isFinite }) {
        throw .invalidOption(name: "classWeighting", reason: "weight of class \(bad.key) must be finite and > 0")
    }
}
