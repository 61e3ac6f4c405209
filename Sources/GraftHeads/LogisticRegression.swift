import Foundation

/// Multinomial logistic regression with an L2 penalty, the objective of scikit-learn's
/// `LogisticRegression(solver="lbfgs")`: `sum_i s_i logloss_i + ||W||^2 / (2C)` (intercept not
/// penalised), divided by `sum_i s_i`. In-memory data is fitted with L-BFGS (`fit`); data that does
/// not fit in memory with mini-batch Adam over chunks (`fitStreaming`).
///
/// With two classes scikit-learn fits a single binomial model; the multinomial model with `C / 2`
/// has exactly the same optimum and objective, so Graft fits that and the two agree.
public struct LogisticRegression: Sendable {
    public struct Options: Sendable {
        /// Inverse regularisation strength; `nil` chooses it from `cGrid` by cross-validation.
        public var C: Double?
        /// Candidates for C when it is not given.
        public var cGrid: [Double] = [0.001, 0.01, 0.1, 1, 10, 100]
        /// Folds for choosing C.
        public var folds = 5
        /// Seed of the folds (and of the mini-batch order when streaming).
        public var seed: UInt64 = 0
        /// Per-class row weights.
        public var classWeighting: ClassWeighting = .uniform
        /// Standardise features with statistics of the training rows (stored in the head).
        public var standardize = true
        /// Fit an unpenalised intercept per class.
        public var fitIntercept = true
        /// Stop when the largest gradient component is below this (scikit-learn's `tol`).
        public var tolerance = 1e-4
        /// L-BFGS iteration limit (scikit-learn's `max_iter`).
        public var maxIterations = 100
        /// Correction pairs kept by L-BFGS.
        public var memory = 10
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

    /// Fits on in-memory features `[rows, features]` and labels (any integers, at least two
    /// distinct). Chooses C by stratified k-fold cross-validation when `options.C` is nil.
    public func fit(_ x: FeatureMatrix, labels: [Int]) throws(HeadsError) -> HeadFit {
        let started = Date()
        try validateTrainingData(x, labels: labels)
        try validate()
        let encoding = try ClassEncoding(labels: labels)
        var crossValidation: CrossValidationResult?
        let C: Double
        if let given = options.C {
            C = given
        } else {
            let result = try crossValidate(x, labels: labels, encoding: encoding)
            crossValidation = result
            C = result.chosenC
        }
        let standardization = options.standardize ? try Standardization.fit(x) : nil
        let core = try fitCore(x, encoding: encoding, rowWeights: encoding.rowWeights(options.classWeighting),
                               standardization: standardization, C: C, initial: nil)
        let k = encoding.classes.count, d = x.columns
        let head = try LinearHead(kind: .logisticRegression, classes: encoding.classes, featureCount: d,
                                  weights: Array(core.parameters[0 ..< k * d]),
                                  bias: Array(core.parameters[k * d ..< k * d + k]),
                                  standardization: standardization, C: C)
        let summary = TrainingSummary(iterations: core.result.iterations, objective: core.result.value,
                                      stop: core.result.stop, seconds: Date().timeIntervalSince(started),
                                      C: C, crossValidation: crossValidation)
        return HeadFit(head: head, summary: summary)
    }

    /// Validation accuracy of each C in the grid over stratified folds. Held-out rows get weight 0
    /// (no copies of the features); standardisation is refitted on each fold's training rows; each
    /// fold warm-starts C from the previous, smaller one.
    public func crossValidate(_ x: FeatureMatrix, labels: [Int]) throws(HeadsError) -> CrossValidationResult {
        try validateTrainingData(x, labels: labels)
        try validate()
        return try crossValidate(x, labels: labels, encoding: ClassEncoding(labels: labels))
    }

    private func crossValidate(_ x: FeatureMatrix, labels: [Int],
                               encoding: ClassEncoding) throws(HeadsError) -> CrossValidationResult {
        let grid = try validatedGrid(options.cGrid)
        let folds = try StratifiedKFold(folds: options.folds, seed: options.seed).split(labels: labels)
        let k = encoding.classes.count
        let accuracy = try crossValidationScores(folds: folds.count, grid: grid.count,
                                                 distribution: options.foldDistribution) { (f) throws(HeadsError) in
            let fold = folds[f]
            let weights = encoding.rowWeights(options.classWeighting, rows: fold.train)
            let standardization = options.standardize ? try Standardization.fit(x, rows: fold.train) : nil
            var warm: [Float]?
            var scores: [Double] = []
            for C in grid {
                let core = try fitCore(x, encoding: encoding, rowWeights: weights,
                                       standardization: standardization, C: C, initial: warm)
                warm = core.parameters
                var correct = 0
                for i in fold.validation {
                    var best = 0
                    for c in 1..<k where core.logits[i * k + c] > core.logits[i * k + best] { best = c }
                    if best == Int(encoding.encoded[i]) { correct += 1 }
                }
                scores.append(Double(correct) / Double(fold.validation.count))
            }
            return scores
        }
        return CrossValidationResult(folds: options.folds, grid: grid, foldAccuracy: accuracy)
    }

    /// One L-BFGS fit; returns the parameters `[W, b]` and the logits of every row.
    func fitCore(_ x: FeatureMatrix, encoding: ClassEncoding, rowWeights: [Float],
                 standardization: Standardization?, C: Double,
                 initial: [Float]?) throws(HeadsError) -> (parameters: [Float], logits: [Float], result: LBFGS.Result) {
        let k = encoding.classes.count
        // Two classes: the multinomial model with C/2 equals scikit-learn's binomial model with C.
        let effectiveC = k == 2 ? C / 2 : C
        var solver = LBFGS()
        solver.memory = options.memory
        solver.gradientTolerance = options.tolerance
        solver.maxIterations = options.maxIterations
        let outcome = try x.values.withUnsafeBufferPointer { (v) throws(HeadsError) in
            let objective = try MultinomialObjective(
                x: v.baseAddress!, rows: x.rows, columns: x.columns, classes: k, labels: encoding.encoded,
                rowWeights: rowWeights, C: effectiveC, fitIntercept: options.fitIntercept,
                standardization: standardization, initial: initial)
            let result = try solver.minimize(objective)
            return (objective.parameters, objective.logits, result)
        }
        if outcome.2.nonFinite || !outcome.2.value.isFinite || outcome.0.contains(where: { !$0.isFinite }) {
            if let bad = x.firstNonFinite() {
                throw .nonFiniteFeature(what: "training features", row: bad.row, column: bad.column)
            }
            throw .invalidOption(name: "C", reason: "the fit diverged (non-finite objective) with C = \(C)")
        }
        return outcome
    }

    func validate() throws(HeadsError) {
        if let C = options.C, !(C > 0) || !C.isFinite {
            throw .invalidOption(name: "C", reason: "must be finite and > 0, got \(C)")
        }
        guard options.tolerance > 0 else {
            throw .invalidOption(name: "tolerance", reason: "must be > 0, got \(options.tolerance)")
        }
        guard options.maxIterations >= 0 else {
            throw .invalidOption(name: "maxIterations", reason: "must be >= 0, got \(options.maxIterations)")
        }
        guard options.memory >= 1 else {
            throw .invalidOption(name: "memory", reason: "must be >= 1, got \(options.memory)")
        }
        try validateWeighting(options.classWeighting)
    }
}
