/// An axis-aligned box in pixels: `x`, `y` is the top-left corner, as COCO writes boxes.
public struct BoundingBox: Sendable, Equatable, Codable, Hashable {
    public var x: Float, y: Float, width: Float, height: Float

    public init(x: Float, y: Float, width: Float, height: Float) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }

    /// From a centre and a size (YOLO's form).
    public init(centerX: Float, centerY: Float, width: Float, height: Float) {
        self.init(x: centerX - width / 2, y: centerY - height / 2, width: width, height: height)
    }

    public var maxX: Float { x + width }
    public var maxY: Float { y + height }
    public var area: Float { max(0, width) * max(0, height) }

    public func intersectionArea(_ other: BoundingBox) -> Float {
        let w = min(maxX, other.maxX) - max(x, other.x), h = min(maxY, other.maxY) - max(y, other.y)
        return w > 0 && h > 0 ? w * h : 0
    }

    /// Intersection over union; 0 when both boxes are empty.
    public func iou(_ other: BoundingBox) -> Float {
        let inter = intersectionArea(other)
        let union = area + other.area - inter
        return union > 0 ? inter / union : 0
    }

    /// The box clipped to `0..<width`, `0..<height` (an image's extent).
    public func clipped(width w: Float, height h: Float) -> BoundingBox {
        let x0 = min(max(x, 0), w), y0 = min(max(y, 0), h)
        let x1 = min(max(maxX, 0), w), y1 = min(max(maxY, 0), h)
        return BoundingBox(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }
}
