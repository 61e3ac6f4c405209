/// The deterministic (evaluation) image pipeline of a model: geometry, then
/// normalisation, straight into HWC Float32.
///
/// ```swift
/// let prep = Preprocessing.imageNet()            // Resize(256) + CenterCrop(224) + Normalize
/// let input: [Float] = prep.apply(image)         // 224 * 224 * 3 values, HWC
/// ```
public struct Preprocessing: Sendable, Equatable {
    /// How the image is cut to a square of `inputSize`.
    public enum Crop: Sendable, Equatable {
        /// Resize the shorter side to `resizeShorterTo` (default `inputSize`), keeping the
        /// aspect ratio, then take the centred `inputSize` square: torchvision's
        /// `Resize(n)` + `CenterCrop(inputSize)`, zero-padded when the image is smaller.
        case center
        /// Take the centred square whose side is `inputSize / (inputSize + padding)` of the
        /// shorter side, then resize it to `inputSize`: the evaluation crop of the
        /// TensorFlow EfficientNet(-Lite) code (`CROP_PADDING = 32`).
        case centerFraction(padding: Int)
        /// Resize the whole image to `inputSize` x `inputSize`, ignoring aspect ratio
        /// (for small inputs such as 28x28 digits).
        case stretch
    }

    /// Arithmetic of the resize step.
    public enum Precision: Sendable, Equatable {
        /// 8-bit resize, bit-identical to Pillow (and so to torchvision on PIL images).
        case uint8
        /// Float32 resize with no intermediate rounding (Pillow's mode "F" arithmetic).
        case float
    }

    /// Side of the square output.
    public var inputSize: Int
    /// Target of the shorter side before a `.center` crop; `nil` means `inputSize`.
    public var resizeShorterTo: Int?
    public var crop: Crop
    public var normalization: Normalization
    public var precision: Precision

    public init(inputSize: Int, resizeShorterTo: Int? = nil, crop: Crop = .center,
                normalization: Normalization = .imageNet, precision: Precision = .uint8) {
        self.inputSize = max(1, inputSize)
        self.resizeShorterTo = resizeShorterTo
        self.crop = crop
        self.normalization = normalization
        self.precision = precision
    }

    /// torchvision's ImageNet evaluation transform: `Resize(256)`, `CenterCrop(224)`,
    /// `Normalize(ImageNet mean, std)`; other sizes keep the 256/224 ratio.
    public static func imageNet(inputSize: Int = 224) -> Preprocessing {
        Preprocessing(inputSize: inputSize, resizeShorterTo: Int((Double(inputSize) * 256 / 224).rounded()),
                      crop: .center, normalization: .imageNet)
    }

    /// EfficientNet-Lite evaluation (TensorFlow reference): centred crop with padding 32,
    /// resize to `inputSize`, `(x - 127) / 128`. TensorFlow resizes bicubically; Graft
    /// uses the antialiased bilinear filter (documented in docs/DATA.md).
    public static func efficientNetLite(inputSize: Int = 224) -> Preprocessing {
        Preprocessing(inputSize: inputSize, crop: .centerFraction(padding: 32), normalization: .efficientNetLite)
    }

    /// Number of Floats `apply` produces: `inputSize * inputSize * 3`.
    public var outputCount: Int { inputSize * inputSize * 3 }

    /// Preprocesses one image into a new HWC buffer.
    public func apply(_ image: RGBImage) -> [Float] {
        var out = [Float](repeating: 0, count: outputCount)
        out.withUnsafeMutableBufferPointer { apply(image, into: $0) }
        return out
    }

    /// Preprocesses one image into `destination` (at least `outputCount` Floats), e.g.
    /// one slot of an NHWC batch.
    public func apply(_ image: RGBImage, into destination: UnsafeMutableBufferPointer<Float>) {
        let g = geometry(width: image.width, height: image.height)
        switch precision {
        case .uint8:
            let resized = Resampler.resize(image, region: g.region, width: g.resizedWidth,
                                           height: g.resizedHeight, keeping: g.window)
            Self.normalize(resized, placedAt: g.placement, side: inputSize,
                           normalization: normalization, into: destination)
        case .float:
            let values = Resampler.resizeToFloat(image, region: g.region, width: g.resizedWidth,
                                                 height: g.resizedHeight, keeping: g.window)
            Self.normalize(values, width: g.window.width, height: g.window.height, placedAt: g.placement,
                           side: inputSize, normalization: normalization, into: destination)
        }
    }

    /// The geometric part alone (resize and crop), as an 8-bit image of `inputSize`
    /// squared; padding, if any, is black. Useful for inspection and for comparing
    /// against other pipelines.
    public func resized(_ image: RGBImage) -> RGBImage {
        let g = geometry(width: image.width, height: image.height)
        let part = Resampler.resize(image, region: g.region, width: g.resizedWidth,
                                    height: g.resizedHeight, keeping: g.window)
        if part.width == inputSize && part.height == inputSize { return part }
        var canvas = [UInt8](repeating: 0, count: outputCount)
        for y in 0..<part.height {
            for x in 0..<part.width {
                for c in 0..<3 {
                    canvas[((y + g.placement.y) * inputSize + x + g.placement.x) * 3 + c] =
                        part.pixels[(y * part.width + x) * 3 + c]
                }
            }
        }
        return RGBImage(uncheckedWidth: inputSize, height: inputSize, pixels: canvas)
    }

    /// Where each step of the crop rule lands for a `width` x `height` image.
    struct Geometry: Equatable {
        /// Source rectangle that is resized.
        var region: PixelRect
        /// Size it is resized to.
        var resizedWidth: Int, resizedHeight: Int
        /// Part of the resized image that is kept (in resized coordinates).
        var window: PixelRect
        /// Top-left corner of the kept part in the output square (non-zero only when padding).
        var placement: (x: Int, y: Int)

        static func == (a: Geometry, b: Geometry) -> Bool {
            a.region == b.region && a.resizedWidth == b.resizedWidth && a.resizedHeight == b.resizedHeight
                && a.window == b.window && a.placement == b.placement
        }
    }

    func geometry(width w: Int, height h: Int) -> Geometry {
        let side = inputSize
        let whole = PixelRect(x: 0, y: 0, width: w, height: h)
        switch crop {
        case .stretch:
            return Geometry(region: whole, resizedWidth: side, resizedHeight: side,
                            window: PixelRect(x: 0, y: 0, width: side, height: side), placement: (0, 0))
        case .centerFraction(let padding):
            // TF: int((size / (size + pad)) * float32(min(h, w))); offsets ((h - crop) + 1) // 2.
            let fraction = Float(Double(side) / Double(side + max(0, padding)))
            let cropSide = max(1, min(Int(fraction * Float(min(w, h))), min(w, h)))
            let region = PixelRect(x: (w - cropSide + 1) / 2, y: (h - cropSide + 1) / 2,
                                   width: cropSide, height: cropSide)
            return Geometry(region: region, resizedWidth: side, resizedHeight: side,
                            window: PixelRect(x: 0, y: 0, width: side, height: side), placement: (0, 0))
        case .center:
            // torchvision Resize(n): the shorter side becomes n, the longer int(n * long / short).
            let n = max(1, resizeShorterTo ?? side)
            let (rw, rh): (Int, Int)
            if w <= h {
                (rw, rh) = (n, max(1, Int(Double(n * h) / Double(w))))
            } else {
                (rw, rh) = (max(1, Int(Double(n * w) / Double(h))), n)
            }
            // torchvision CenterCrop: offsets int(round((size - crop) / 2)), half to even;
            // a side smaller than the crop is padded with zeros on both sides.
            func axis(_ size: Int) -> (keepFrom: Int, keep: Int, placeAt: Int) {
                if size >= side {
                    let offset = Int((Double(size - side) / 2).rounded(.toNearestOrEven))
                    return (offset, side, 0)
                }
                return (0, size, (side - size) / 2)
            }
            let ax = axis(rw), ay = axis(rh)
            return Geometry(region: whole, resizedWidth: rw, resizedHeight: rh,
                            window: PixelRect(x: ax.keepFrom, y: ay.keepFrom, width: ax.keep, height: ay.keep),
                            placement: (ax.placeAt, ay.placeAt))
        }
    }

    /// Writes a normalised 8-bit image into the output square, padding with the
    /// normalised value of 0 (torchvision pads before `ToTensor`).
    static func normalize(_ part: RGBImage, placedAt p: (x: Int, y: Int), side: Int,
                          normalization: Normalization, into dst: UnsafeMutableBufferPointer<Float>) {
        let table = normalization.lookupTable()
        table.withUnsafeBufferPointer { lut in
            if part.width != side || part.height != side {
                for i in 0..<(side * side) {
                    dst[3 * i] = lut[0]; dst[3 * i + 1] = lut[256]; dst[3 * i + 2] = lut[512]
                }
            }
            part.pixels.withUnsafeBufferPointer { src in
                for y in 0..<part.height {
                    let s = y * part.width * 3
                    let d = ((y + p.y) * side + p.x) * 3
                    for x in 0..<part.width {
                        let o = 3 * x
                        dst[d + o] = lut[Int(src[s + o])]
                        dst[d + o + 1] = lut[256 + Int(src[s + o + 1])]
                        dst[d + o + 2] = lut[512 + Int(src[s + o + 2])]
                    }
                }
            }
        }
    }

    /// Float variant of `normalize(_:placedAt:side:normalization:into:)`.
    static func normalize(_ values: [Float], width: Int, height: Int, placedAt p: (x: Int, y: Int), side: Int,
                          normalization: Normalization, into dst: UnsafeMutableBufferPointer<Float>) {
        if width != side || height != side {
            let zero = (0..<3).map { normalization.apply(0, channel: $0) }
            for i in 0..<(side * side) { for c in 0..<3 { dst[3 * i + c] = zero[c] } }
        }
        values.withUnsafeBufferPointer { src in
            for y in 0..<height {
                for x in 0..<width {
                    let s = (y * width + x) * 3, d = ((y + p.y) * side + x + p.x) * 3
                    for c in 0..<3 { dst[d + c] = normalization.apply(src[s + c], channel: c) }
                }
            }
        }
    }
}
