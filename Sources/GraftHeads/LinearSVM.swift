import Foundation
import GraftKernels

/// One-vs-rest linear SVM with the squared hinge loss and an L2 penalty, solved by LIBLINEAR's dual
/// coordinate descent: the model of scikit-learn's `LinearSVC()` defaults (`loss="squared_hinge"`,
/// `intercept_scaling=1`, `tol=1e-4`, `max_iter=1000`). As in LIBLINEAR, the intercept is a weight
/// on a constant bias feature and is penalised with the other weights.
///
/// With two classes a single problem is solved (positive = the larger label), stored as the
/// opposite rows `(-w, w)` so scores keep one column per class.
public struct LinearSVM: Sendable {
    public struct Options: Sendable {
        /// Penalty of the squared hinge loss; `nil` chooses it from `cGrid` by cross-validation.
        public var C: Double?
        /// Candidates for C when it is not given.
        public var cGrid: [Double] = [0.001, 0.01, 0.1, 1, 10]
        /// Folds for choosing C.
        public var folds = 5
        /// Seed of the folds and of the coordinate order.
        public var seed: UInt64 = 0
        /// Per-class weights; as in LIBLINEAR, class `c`'s problem uses `C * weight[c]` for its
        /// positive rows and `C` for the rest.
        public var classWeighting: ClassWeighting = .uniform
        /// Standardise features (fitted on all training rows; the solver works on a standardised
        /// copy of the features).
        public var standardize = true
        /// Fit an intercept through a bias feature of value 1.
        public var fitIntercept = true
        /// Stop when the projected-gradient spread is below this (scikit-learn's `tol`).
        public var tolerance = 1e-4
        /// Epoch limit per one-vs-rest problem (scikit-learn's `max_iter`).
        public var maxIterations = 1000
        /// Skip rows that cannot become support vectors, rechecking all before stopping.
        public var shrinking = true
        /// Which folds this process computes when choosing C (nil: all).
        public var foldDistribution: (any FoldDistribution)?

        public init(C: Double? = nil, classWeighting: ClassWeighting = .uniform, standardize: Bool = true) {
            self.C = C
            self.classWeighting = classWeighting
            self.standardize = standardize
        }
    }

    public var options: Options

    public init(_ options: Options = Options()) {
        self.options = options
    }

    /// Fits on in-memory features and labels (at least two distinct labels). Chooses C by
    /// stratified k-fold cross-validation when `options.C` is nil.
    public func fit(_ x: FeatureMatrix, labels: [Int]) throws(HeadsError) -> HeadFit {
        let started = Date()
        try validateTrainingData(x, labels: labels)
        try validate()
        if let bad = x.firstNonFinite() {
            throw .nonFiniteFeature(what: "training features", row: bad.row, column: bad.column)
        }
        let encoding = try ClassEncoding(labels: labels)
        let standardization = options.standardize ? try Standardization.fit(x) : nil
        let features = try standardization?.apply(x) ?? x
        var crossValidation: CrossValidationResult?
        let C: Double
        if let given = options.C {
            C = given
        } else {
            // The folds share the standardisation fitted on all rows (one copy of the features).
            let grid = try validatedGrid(options.cGrid)
            let folds = try StratifiedKFold(folds: options.folds, seed: options.seed).split(labels: labels)
            let accuracy = try crossValidationScores(folds: folds.count, grid: grid.count,
                                                     distribution: options.foldDistribution) { (f) throws(HeadsError) in
                let fold = folds[f]
                return grid.map { candidate in
                    let solution = solve(features, encoding: encoding, rows: fold.train, C: candidate)
                    let scores = scoreRows(features, rows: fold.validation, solution: solution, classes: encoding.classes.count)
                    var correct = 0
                    for (r, i) in fold.validation.enumerated() where scores[r] == Int(encoding.encoded[i]) { correct += 1 }
                    return Double(correct) / Double(fold.validation.count)
                }
            }
            let result = CrossValidationResult(folds: options.folds, grid: grid, foldAccuracy: accuracy)
            crossValidation = result
            C = result.chosenC
        }
        let solution = solve(features, encoding: encoding, rows: Array(0..<x.rows), C: C)
        let k = encoding.classes.count, d = x.columns
        var weights = solution.weights, bias = solution.bias
        if k == 2 {
            weights = solution.weights.map { -$0 } + solution.weights
            bias = [-solution.bias[0], solution.bias[0]]
        }
        let head = try LinearHead(kind: .linearSVM, classes: encoding.classes, featureCount: d, weights: weights,
                                  bias: bias, standardization: standardization, C: C)
        let summary = TrainingSummary(
            iterations: solution.iterations.max() ?? 0, objective: solution.objective.reduce(0, +),
            stop: solution.converged.allSatisfy { $0 } ? .dualTolerance : .maxIterations,
            seconds: Date().timeIntervalSince(started), C: C, crossValidation: crossValidation)
        return HeadFit(head: head, summary: summary)
    }

    /// Solves the one-vs-rest problems (one problem when there are two classes) on `rows`.
    func solve(_ x: FeatureMatrix, encoding: ClassEncoding, rows: [Int], C: Double) -> DualCoordinateDescent.Solution {
        var solver = DualCoordinateDescent()
        solver.tolerance = options.tolerance
        solver.maxIterations = options.maxIterations
        solver.shrinking = options.shrinking
        solver.seed = options.seed
        solver.biasFeature = options.fitIntercept ? 1 : 0
        let weight = encoding.classWeights(options.classWeighting)
        let problems: [DualCoordinateDescent.Problem]
        if encoding.classes.count == 2 {
            problems = [.init(positive: 1, cPositive: C * weight[1], cNegative: C * weight[0])]
        } else {
            problems = (0 ..< encoding.classes.count).map { .init(positive: Int32($0), cPositive: C * weight[$0], cNegative: C) }
        }
        return x.values.withUnsafeBufferPointer { v in
            solver.solve(x: v.baseAddress!, columns: x.columns, rows: rows, classIndex: encoding.encoded, problems: problems)
        }
    }

    /// Predicted class index of each of `rows` under a solution.
    private func scoreRows(_ x: FeatureMatrix, rows: [Int], solution: DualCoordinateDescent.Solution,
                           classes k: Int) -> [Int] {
        let d = x.columns
        return x.values.withUnsafeBufferPointer { v in
            solution.weights.withUnsafeBufferPointer { w in
                rows.map { i in
                    let xi = v.baseAddress! + i * d
                    if k == 2 {
                        let s = Float(Vector.dot(w.baseAddress!, xi, count: d)) + solution.bias[0]
                        return s > 0 ? 1 : 0
                    }
                    var best = 0, bestScore = -Float.infinity
                    for c in 0..<k {
                        let s = Float(Vector.dot(w.baseAddress! + c * d, xi, count: d)) + solution.bias[c]
                        if s > bestScore { best = c; bestScore = s }
                    }
                    return best
                }
            }
        }
    }

    func validate() throws(HeadsError) {
        if let C = options.C, !(C > 0) || !C.isFinite {
            throw .invalidOption(name: "C", reason: "must be finite and > 0, got \(C)")
        }
        guard options.tolerance > 0 else {
            throw .invalidOption(name: "tolerance", reason: "must be > 0, got \(options.tolerance)")
        }
        guard options.maxIterations >= 1 else {
            throw .invalidOption(name: "maxIterations", reason: "must be >= 1, got \(options.maxIterations)")
        }
        try validateWeighting(options.classWeighting)
    }
}
