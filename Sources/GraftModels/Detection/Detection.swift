import GraftData

/// One detected object: a class, its score and its box in the original image's pixels.
public struct Detection: Sendable, Equatable, Codable {
    public var label: String
    public var classIndex: Int
    /// Objectness x class probability, as Darknet reports it.
    public var score: Float
    public var box: BoundingBox

    public init(label: String, classIndex: Int, score: Float, box: BoundingBox) {
        self.label = label; self.classIndex = classIndex; self.score = score; self.box = box
    }
}
