/// A fitted head and how the fit went.
public struct HeadFit: Sendable {
    public var head: LinearHead
    public var summary: TrainingSummary
}

/// Any classifier head on features and how its fit went (what the job's feature stage returns).
public struct ClassifierHeadFit: Sendable {
    public var head: any ClassifierHead
    public var summary: TrainingSummary
    public init(head: any ClassifierHead, summary: TrainingSummary) { self.head = head; self.summary = summary }
    public init(_ fit: HeadFit) { self.init(head: fit.head, summary: fit.summary) }
}

/// How a fit went: iterations, final objective, why it stopped, time, and the
/// cross-validation that chose C (when C was not given).
public struct TrainingSummary: Codable, Sendable, Equatable {
    /// Optimiser iterations (L-BFGS iterations, mini-batch epochs, or the most dual CD epochs of
    /// any one-vs-rest problem).
    public var iterations: Int
    /// Final objective in scikit-learn's scaling (see docs/HEADS.md); for the SVM, the sum of the
    /// one-vs-rest primal objectives.
    public var objective: Double
    /// Why the optimiser stopped.
    public var stop: StopReason
    /// Wall-clock seconds of the whole fit, cross-validation included.
    public var seconds: Double
    /// The C that was used.
    public var C: Double
    /// The search that chose C, if one ran.
    public var crossValidation: CrossValidationResult?
}
