import Foundation
import GraftData
import GraftHeads
import GraftTensor

/// The loss a regression network trains with.
public enum RegressionLoss: String, Codable, Sendable, CaseIterable {
    /// Mean squared error (PyTorch's `MSELoss`).
    case mse
    /// Huber loss with delta 1 in standardised target units (PyTorch's `HuberLoss`): squared near
    /// the truth, linear beyond, so a few far-off targets pull less.
    case huber
}

/// Numeric targets, one output per target. On features: ridge regression (`RidgeRegression`, fitted by
/// `FeatureStages.fitRegression` from a targets file). Networks: an MSE or Huber head trained on the
/// targets standardised with the training split's mean and standard deviation (so one learning rate
/// suits degrees, counts and scores alike); `finished` folds that scale back into the head, so a saved
/// network outputs values in the targets' own units. Metrics MAE, RMSE and R^2 (`RegressionReport`).
public struct RegressionTask: TransferTask {
    /// The target names (the columns of the targets file); nil: the data's class names stand for them.
    public var targetNames: [String]?
    public var loss: RegressionLoss
    /// Training targets' mean and standard deviation per target while a network trains (nil: outputs are values).
    public var targetMean: [Float]?
    public var targetScale: [Float]?

    public init(targets: [String]? = nil, loss: RegressionLoss = .mse) { targetNames = targets; self.loss = loss }
    public var kind: TaskKind { .regression }

    /// One output per target name.
    public func outputCount(classNames: [String]) -> Int { outputNames(classNames: classNames).count }
    public func outputNames(classNames: [String]) -> [String] { targetNames ?? classNames }

    public func loss(_ outputs: Tensor, targets: BatchTargets, labelSmoothing: Float) throws -> Tensor {
        let y = try Tensor(shape: outputs.shape, values: standardized(targets, outputs))
        switch loss {
        case .mse: return try outputs.meanSquaredError(targets: y)
        case .huber: return try outputs.huberLoss(targets: y, delta: 1)
        }
    }

    /// Predicted values: the outputs, in target units.
    public func scores(_ outputs: Tensor) throws -> Tensor {
        guard let targetMean, let targetScale else { return outputs }
        let k = outputs.shape.last ?? 1
        let v = outputs.values.enumerated().map { $1 * targetScale[$0 % k] + targetMean[$0 % k] }
        return try Tensor(shape: outputs.shape, values: v)
    }

    public var metricName: String { "r2" }

    /// R^2 averaged over targets (unchanged by the standardisation, which scales truth and outputs alike).
    public func metric(_ outputs: Tensor, targets: BatchTargets) throws -> Double {
        let (n, k) = (outputs.shape[0], outputs.shape[1])
        let truth = try FeatureMatrix(rows: n, columns: k, values: standardized(targets, outputs))
        return try RegressionReport(truth: truth, predicted: FeatureMatrix(rows: n, columns: k, values: outputs.values)).r2
    }

    public func report(truth: [Int], scores: FeatureMatrix, trainedClasses: [Int]) throws -> ClassificationReport {
        throw TransferError.unsupported("a regression model has no classification report: its metrics are a RegressionReport")
    }

    public func metrics(scores: FeatureMatrix, targets: BatchTargets) throws -> TaskMetrics? {
        let y = try requireVectors(targets, rows: scores.rows, width: scores.columns)
        return .regression(try RegressionReport(truth: FeatureMatrix(rows: scores.rows, columns: scores.columns, values: y), predicted: scores))
    }

    /// Ridge regression on the standardised targets, alpha by 5-fold cross-validation (fewer folds for few rows).
    public func probe(_ x: FeatureMatrix, targets: BatchTargets, outputs: Int, seed: UInt64) throws -> ProbeFit? {
        guard x.rows >= 2 else { return nil }
        let y = try FeatureMatrix(rows: x.rows, columns: outputs, values: standardized(targets, rows: x.rows, width: outputs))
        var options = RidgeRegression.Options(alpha: nil)
        options.folds = min(5, x.rows)
        options.seed = seed
        let head = try RidgeRegression(options).fit(x, targets: y).head
        return ProbeFit(head, regularisation: head.alpha)
    }

    /// Mean and standard deviation of each target over the training items (a constant target keeps scale 1).
    public func prepared(for dataset: any Dataset, indices: [Int]) throws -> any TransferTask {
        var sum: [Double] = [], squares: [Double] = []
        for i in indices {
            guard case let .values(v) = dataset.target(at: i) else {
                throw TransferError.unsupported("the regression task needs values per item, but \(dataset.sourceID(at: i)) carries none "
                    + "(give the data its targets: --targets FILE --target COLUMN)")
            }
            if sum.isEmpty { sum = .init(repeating: 0, count: v.count); squares = sum }
            for (t, value) in v.enumerated() { sum[t] += Double(value); squares[t] += Double(value) * Double(value) }
        }
        let n = Double(max(indices.count, 1))
        var task = self
        task.targetMean = sum.map { Float($0 / n) }
        task.targetScale = zip(sum, squares).map { s, q in
            let sd = Foundation.sqrt(Swift.max(q / n - (s / n) * (s / n), 0))
            return sd > 1e-12 ? Float(sd) : 1
        }
        return task
    }

    /// Folds the target scale into the head (`W s`, `b s + mean`), so the network outputs values.
    public func finished(_ network: TaskNetwork) throws -> any TransferTask {
        guard let targetMean, let targetScale else { return self }
        guard let head = network.linearHead else {
            throw TransferError.unsupported("regression needs a network with a linear head; \(network.backbone.spec.model) has none")
        }
        let (k, d) = (head.outFeatures, head.inFeatures)
        var w = head.weight.values
        for t in 0..<k { for j in 0..<d { w[t * d + j] *= targetScale[t] } }
        try head.weight.assign(Tensor(shape: [k, d], values: w))
        if let bias = head.bias {
            let b = bias.values.enumerated().map { $1 * targetScale[$0] + targetMean[$0] }
            try bias.assign(Tensor(shape: [k], values: b))
        }
        return RegressionTask(targets: targetNames, loss: loss)
    }

    public func record(in manifest: inout BundleManifest) { manifest.notes["loss"] = loss.rawValue }

    /// Targets in the units the network learns (standardised while training).
    private func standardized(_ targets: BatchTargets, _ outputs: Tensor) throws -> [Float] {
        try standardized(targets, rows: outputs.shape[0], width: outputs.shape.count > 1 ? outputs.shape[1] : 1)
    }

    private func standardized(_ targets: BatchTargets, rows: Int, width: Int) throws -> [Float] {
        var y = try requireVectors(targets, rows: rows, width: width)
        if let targetMean, let targetScale {
            for i in 0..<y.count { y[i] = (y[i] - targetMean[i % width]) / targetScale[i % width] }
        }
        return y
    }
}
