import GraftHeads
import GraftTensor

/// Numeric targets, one output per target: ridge regression on features (`RidgeRegression`, fitted by
/// `FeatureStages.fitRegression` from a targets file), metrics MAE, RMSE and R^2 (`RegressionReport`).
/// Outputs are the predicted values themselves. Network training (an MSE head through the fine-tuning
/// strategies) needs numeric targets in `Batch` and is not built yet: the network doors refuse with
/// a typed error instead of training on class indices.
public struct RegressionTask: TransferTask {
    public init() {}
    public var kind: TaskKind { .regression }
    public var trainsFromClassLabels: Bool { false }

    /// One output per target name.
    public func outputCount(classNames: [String]) -> Int { classNames.count }

    public func loss(_ outputs: Tensor, labels: [Int], labelSmoothing: Float) throws -> Tensor {
        throw TransferError.unsupported(Self.networkTraining)
    }

    /// Predicted values are the outputs.
    public func scores(_ outputs: Tensor) throws -> Tensor { outputs }

    public func correct(_ outputs: Tensor, labels: [Int]) throws -> Int {
        throw TransferError.unsupported(Self.networkTraining)
    }

    public func report(truth: [Int], scores: FeatureMatrix, trainedClasses: [Int]) throws -> ClassificationReport {
        throw TransferError.unsupported("a regression model has no classification report: its metrics are a RegressionReport")
    }

    static let networkTraining = "regression trains a ridge head on features (graft fit --task regression); "
        + "fine-tuning a network for regression is not built yet"
}
