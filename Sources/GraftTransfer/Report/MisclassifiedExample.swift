import Foundation

/// A test item the model got wrong, with how sure it was: the rows of a
/// report's "most confident mistakes" section.
public struct MisclassifiedExample: Codable, Sendable, Equatable {
    /// Where the item came from (`Dataset.sourceID`).
    public var id: String
    /// The true class name.
    public var truth: String
    /// The predicted class name.
    public var predicted: String
    /// Probability the model gave its (wrong) prediction.
    public var confidence: Double
    /// Image items: a small PNG of the image (at most `thumbnailSide` pixels a side).
    public var thumbnailPNG: Data?
    /// Text items: the text, cut to a snippet.
    public var text: String?

    public init(id: String, truth: String, predicted: String, confidence: Double, thumbnailPNG: Data? = nil, text: String? = nil) {
        self.id = id; self.truth = truth; self.predicted = predicted; self.confidence = confidence
        self.thumbnailPNG = thumbnailPNG; self.text = text
    }
}
