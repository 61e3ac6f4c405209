/// One batch from a `BatchLoader`, items in loader order.
public struct Batch: Sendable {
    /// Position of the batch in the epoch (0, 1, 2, ...).
    public let number: Int
    /// Image data sets: `count * height * width * 3` Floats, NHWC. Empty for text.
    public let pixels: [Float]
    /// Text data sets: the texts. Empty for images.
    public let texts: [String]
    public let labels: [Int]
    /// Stable source ids (`Dataset.sourceID`).
    public let ids: [String]
    /// Indices into the loader's data set.
    public let indices: [Int]
    /// Items of this batch that could not be loaded (left out of the arrays above).
    public let failures: [ItemFailure]
    /// Image side (`Preprocessing.inputSize`); 0 for text.
    public let height: Int, width: Int

    public init(number: Int, pixels: [Float], texts: [String], labels: [Int], ids: [String], indices: [Int],
                failures: [ItemFailure], height: Int, width: Int) {
        self.number = number; self.pixels = pixels; self.texts = texts; self.labels = labels; self.ids = ids
        self.indices = indices; self.failures = failures; self.height = height; self.width = width
    }

    /// Number of items actually in the batch (failed ones excluded).
    public var count: Int { labels.count }
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
