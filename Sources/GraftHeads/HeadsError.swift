/// What went wrong while fitting, applying or scoring a linear head. Each case names the data,
/// shapes, rows or labels involved.
public enum HeadsError: Error, CustomStringConvertible, Equatable, Sendable {
    /// `what` has no rows (or no columns).
    case emptyData(what: String)
    /// Training labels hold only one class, so there is nothing to separate.
    case singleClass(label: Int, rows: Int)
    /// A matrix or vector does not have the shape the operation needs.
    case shapeMismatch(what: String, expected: [Int], got: [Int])
    /// The number of labels differs from the number of feature rows.
    case labelCountMismatch(rows: Int, labels: Int)
    /// A feature value is NaN or infinite.
    case nonFiniteFeature(what: String, row: Int, column: Int)
    /// An option is out of range or options contradict each other.
    case invalidOption(name: String, reason: String)
    /// Cross-validation needs at least two examples per class in every training fold.
    case tooFewExamplesForCrossValidation(label: Int, count: Int, folds: Int)
    /// The head kind cannot give calibrated probabilities (a linear SVM only has decision values).
    case probabilitiesUnavailable(kind: HeadKind)
    /// The kernels layer could not run a matrix product of this [m, n, k] (out of memory, or
    /// oneDNN refused it); `reason` is its `KernelError`.
    case kernelFailed(shape: [Int], reason: String)
    /// A chunk source failed or gave inconsistent chunks.
    case chunkSource(index: Int, reason: String)
    /// Cross-validation folds spread over processes could not be exchanged (a peer failed).
    case foldExchange(reason: String)

    public var description: String {
        switch self {
        case let .emptyData(what): return "\(what): no data (0 rows or 0 columns)"
        case let .singleClass(label, rows):
            return "training labels hold a single class (\(label), \(rows) rows): need at least two classes"
        case let .shapeMismatch(what, expected, got):
            return "\(what): expected shape \(expected), got \(got)"
        case let .labelCountMismatch(rows, labels):
            return "\(rows) feature rows but \(labels) labels"
        case let .nonFiniteFeature(what, row, column):
            return "\(what): non-finite value at row \(row), column \(column)"
        case let .invalidOption(name, reason): return "option \(name): \(reason)"
        case let .tooFewExamplesForCrossValidation(label, count, folds):
            return "class \(label) has \(count) examples: \(folds)-fold cross-validation needs at least \(folds)"
        case let .probabilitiesUnavailable(kind):
            return "a \(kind.rawValue) head gives decision values, not probabilities"
        case let .kernelFailed(shape, reason):
            return "matrix product [m, n, k] = \(shape) failed: \(reason)"
        case let .chunkSource(index, reason): return "feature chunk \(index): \(reason)"
        case let .foldExchange(reason): return "exchanging cross-validation folds between ranks failed: \(reason)"
        }
    }
}
