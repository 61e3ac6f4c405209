/// An integer rectangle of pixels: columns `x..<x+width`, rows `y..<y+height`.
public struct PixelRect: Sendable, Equatable, CustomStringConvertible {
    public var x: Int, y: Int, width: Int, height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }

    /// The whole of an image.
    public init(_ image: RGBImage) { self.init(x: 0, y: 0, width: image.width, height: image.height) }

    public var description: String { "\(width)x\(height)+\(x)+\(y)" }

    /// Whether the rectangle is non-empty and lies inside a `width` x `height` image.
    func isInside(width w: Int, height h: Int) -> Bool {
        width > 0 && height > 0 && x >= 0 && y >= 0 && x + width <= w && y + height <= h
    }
}
