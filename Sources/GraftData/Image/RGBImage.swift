/// An 8-bit RGB image, rows top to bottom, pixels interleaved `R G B R G B ...`.
///
/// Every decoder in Graft produces this one layout: grey images are expanded to
/// three equal channels and alpha is removed (see `AlphaHandling`).
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `width * height * 3` bytes, row-major, RGB interleaved.
    public var pixels: [UInt8]

    /// Wraps an RGB buffer; `nil` when the buffer size does not equal `width * height * 3`
    /// or a dimension is not positive.
    public init?(width: Int, height: Int, pixels: [UInt8]) {
        guard width > 0, height > 0, pixels.count == width * height * 3 else { return nil }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Internal unchecked initialiser for buffers whose size is known to be right.
    init(uncheckedWidth width: Int, height: Int, pixels: [UInt8]) {
        assert(pixels.count == width * height * 3)
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Expands an 8-bit grey buffer (`width * height` bytes) to RGB.
    public init?(width: Int, height: Int, grey: [UInt8]) {
        guard width > 0, height > 0, grey.count == width * height else { return nil }
        var rgb = [UInt8](repeating: 0, count: grey.count * 3)
        rgb.withUnsafeMutableBufferPointer { out in
            for (i, v) in grey.enumerated() {
                out[3 * i] = v; out[3 * i + 1] = v; out[3 * i + 2] = v
            }
        }
        self.init(uncheckedWidth: width, height: height, pixels: rgb)
    }

    /// The `(r, g, b)` value at column `x`, row `y`.
    public subscript(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8) {
        let i = (y * width + x) * 3
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// Copies the rectangle `x..<x+width`, `y..<y+height` (clamped to the image) into a new image.
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> RGBImage {
        let x0 = max(0, min(x, width - 1)), y0 = max(0, min(y, height - 1))
        let cw = max(1, min(w, width - x0)), ch = max(1, min(h, height - y0))
        var out = [UInt8](repeating: 0, count: cw * ch * 3)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for row in 0..<ch {
                    let s = ((y0 + row) * width + x0) * 3
                    let d = row * cw * 3
                    for k in 0..<(cw * 3) { dst[d + k] = src[s + k] }
                }
            }
        }
        return RGBImage(uncheckedWidth: cw, height: ch, pixels: out)
    }

    /// The image mirrored left to right.
    public func flippedHorizontally() -> RGBImage {
        var out = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let row = y * width * 3
                    for x in 0..<width {
                        let s = row + x * 3, d = row + (width - 1 - x) * 3
                        dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return RGBImage(uncheckedWidth: width, height: height, pixels: out)
    }
}
