/// A batch of inputs, items in order: the images or texts it holds, and their
/// targets when it comes from a labelled data set (a `BatchLoader`): class indices,
/// label vectors or values, whatever the data set's items carry (`Dataset.target(at:)`).
/// Batches built for prediction (`Batch.images`, `Batch.texts`) carry none.
public struct Batch: Sendable {
    /// What a batch holds.
    public enum Inputs: Sendable {
        /// `count * height * width * 3` Floats, NHWC, already preprocessed.
        case images(pixels: [Float], height: Int, width: Int)
        case texts([String])
    }

    /// Position of the batch in the epoch (0, 1, 2, ...).
    public let number: Int
    public let inputs: Inputs
    /// What each item is trained to predict; nil for inputs to predict.
    public let targets: BatchTargets?
    /// Stable source ids (`Dataset.sourceID`, or `#i` for in-memory inputs).
    public let ids: [String]
    /// Indices into the loader's data set (positions for in-memory inputs).
    public let indices: [Int]
    /// Items of this batch that could not be loaded (left out of the arrays above).
    public let failures: [ItemFailure]

    public init(number: Int, inputs: Inputs, targets: BatchTargets?, ids: [String], indices: [Int], failures: [ItemFailure] = []) {
        self.number = number; self.inputs = inputs; self.targets = targets; self.ids = ids
        self.indices = indices; self.failures = failures
    }

    /// A batch of class-labelled items (or unlabelled ones when `labels` is nil).
    public init(number: Int, inputs: Inputs, labels: [Int]?, ids: [String], indices: [Int], failures: [ItemFailure] = []) {
        self.init(number: number, inputs: inputs, targets: labels.map { .classes($0) }, ids: ids, indices: indices, failures: failures)
    }

    /// Class indices of a batch of class-labelled items; nil for inputs to predict and for other targets.
    public var labels: [Int]? { if case let .classes(c) = targets { c } else { nil } }

    /// Preprocessed images to predict (`side` x `side`, NHWC), no labels.
    public static func images(_ pixels: [Float], side: Int, count: Int) -> Batch {
        Batch(number: 0, inputs: .images(pixels: pixels, height: side, width: side), labels: nil,
              ids: (0..<count).map { "#\($0)" }, indices: Array(0..<count))
    }

    /// Texts to predict, no labels.
    public static func texts(_ texts: [String]) -> Batch {
        Batch(number: 0, inputs: .texts(texts), labels: nil, ids: texts.indices.map { "#\($0)" }, indices: Array(texts.indices))
    }

    /// Number of items actually in the batch (failed ones excluded).
    public var count: Int {
        switch inputs {
        case let .images(pixels, h, w): h * w > 0 ? pixels.count / (h * w * 3) : 0
        case let .texts(texts): texts.count
        }
    }

    /// Image pixels (empty for texts).
    public var pixels: [Float] { if case let .images(p, _, _) = inputs { p } else { [] } }
    /// Texts (empty for images).
    public var texts: [String] { if case let .texts(t) = inputs { t } else { [] } }
    /// Image side; 0 for texts.
    public var height: Int { if case let .images(_, h, _) = inputs { h } else { 0 } }
    public var width: Int { if case let .images(_, _, w) = inputs { w } else { 0 } }

    /// The class labels, or an error saying the batch has none (training and scoring need them).
    public func requireLabels() throws -> [Int] {
        guard let labels else { throw targets == nil ? BatchError.unlabelled(batch: number) : BatchError.notClassLabels(batch: number) }
        return labels
    }

    /// The targets, or an error saying the batch has none.
    public func requireTargets() throws -> BatchTargets {
        guard let targets else { throw BatchError.unlabelled(batch: number) }
        return targets
    }
}

public enum BatchError: Error, CustomStringConvertible, Equatable {
    case unlabelled(batch: Int)
    /// Class indices were asked of a batch whose items carry label vectors or values.
    case notClassLabels(batch: Int)
    /// Items of one batch carry targets of different kinds or widths.
    case mixedTargets
    public var description: String {
        switch self {
        case let .unlabelled(n): "batch \(n) has no labels: training and evaluation need labelled data"
        case let .notClassLabels(n): "batch \(n) carries label vectors or values, not class indices"
        case .mixedTargets: "items of one batch carry targets of different kinds or widths"
        }
    }
}

/// An item the loader could not load, with the reason.
public struct ItemFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// Index into the loader's data set.
    public let index: Int
    /// `Dataset.sourceID` of the item.
    public let id: String
    /// The decoder's error, when it was an image error.
    public let imageError: ImageError?
    /// Human-readable reason (names the file for image errors).
    public let reason: String

    public var description: String { "item \(index) (\(id)): \(reason)" }
}
