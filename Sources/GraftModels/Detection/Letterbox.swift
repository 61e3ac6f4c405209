import GraftData

/// How an image is fitted to the network's input.
public enum DetectionResize: String, Sendable, Codable, CaseIterable {
    /// Darknet's `letterbox_image` (what `darknet detector test` does): scale to fit keeping the
    /// aspect ratio, centre, fill the rest with 0.5 grey.
    case letterbox
    /// Stretch to the input size (OpenCV's `blobFromImage` without crop).
    case stretch
}

/// Where an image lands inside the network input, and the way back for boxes
/// (Darknet src/image.c `letterbox_image`, src/yolo_layer.c `correct_yolo_boxes`).
public struct LetterboxGeometry: Sendable, Equatable {
    public let imageWidth: Int, imageHeight: Int
    public let inputWidth: Int, inputHeight: Int
    /// The resized image's size and its top-left corner inside the input.
    public let resizedWidth: Int, resizedHeight: Int
    public let offsetX: Int, offsetY: Int

    public init(imageWidth: Int, imageHeight: Int, inputWidth: Int, inputHeight: Int, resize: DetectionResize) {
        self.imageWidth = imageWidth; self.imageHeight = imageHeight
        self.inputWidth = inputWidth; self.inputHeight = inputHeight
        switch resize {
        case .stretch:
            resizedWidth = inputWidth; resizedHeight = inputHeight
        case .letterbox:
            // Integer arithmetic exactly as Darknet's (the float comparison too).
            if Float(inputWidth) / Float(imageWidth) < Float(inputHeight) / Float(imageHeight) {
                resizedWidth = inputWidth; resizedHeight = max(1, imageHeight * inputWidth / imageWidth)
            } else {
                resizedHeight = inputHeight; resizedWidth = max(1, imageWidth * inputHeight / imageHeight)
            }
        }
        offsetX = (inputWidth - resizedWidth) / 2
        offsetY = (inputHeight - resizedHeight) / 2
    }

    /// A box given relative to the network input (centre x, y and size in 0...1) in image pixels,
    /// clipped to the image. Darknet's offset here is `(net - new) / 2.` in floating point.
    public func imageBox(centerX: Float, centerY: Float, width: Float, height: Float) -> BoundingBox {
        let nw = Float(inputWidth), nh = Float(inputHeight), rw = Float(resizedWidth), rh = Float(resizedHeight)
        let cx = (centerX - (nw - rw) / 2 / nw) / (rw / nw)
        let cy = (centerY - (nh - rh) / 2 / nh) / (rh / nh)
        let w = width * nw / rw, h = height * nh / rh
        let W = Float(imageWidth), H = Float(imageHeight)
        return BoundingBox(centerX: cx * W, centerY: cy * H, width: w * W, height: h * H).clipped(width: W, height: H)
    }

    /// Writes the image, fitted, as floats in [0, 1] into an NHWC input slot of inputHeight x inputWidth x 3.
    public func fill(_ image: RGBImage, into dst: UnsafeMutablePointer<Float>) {
        let count = inputWidth * inputHeight * 3
        dst.update(repeating: 0.5, count: count)
        let resized = Self.darknetResize(image, width: resizedWidth, height: resizedHeight)
        resized.withUnsafeBufferPointer { src in
            for y in 0..<resizedHeight {
                let row = dst + ((y + offsetY) * inputWidth + offsetX) * 3
                row.update(from: src.baseAddress! + y * resizedWidth * 3, count: resizedWidth * 3)
            }
        }
    }

    /// Darknet's `resize_image`: separable bilinear with corners aligned (scale (in - 1) / (out - 1)),
    /// columns first, then rows, in Float on pixels / 255. Returns HWC floats.
    static func darknetResize(_ image: RGBImage, width w: Int, height h: Int) -> [Float] {
        let iw = image.width, ih = image.height
        let wScale = w > 1 ? Float(iw - 1) / Float(w - 1) : 0
        let hScale = h > 1 ? Float(ih - 1) / Float(h - 1) : 0
        var part = [Float](repeating: 0, count: w * ih * 3)
        image.pixels.withUnsafeBufferPointer { px in
            part.withUnsafeMutableBufferPointer { part in
                for c in 0..<w {
                    let last = c == w - 1 || iw == 1
                    let sx = Float(c) * wScale
                    let ix = last ? iw - 1 : min(Int(sx), iw - 1)
                    let dx = last ? 0 : sx - Float(ix)
                    let ix1 = min(ix + 1, iw - 1)
                    for r in 0..<ih {
                        for k in 0..<3 {
                            let a = Float(px[(r * iw + ix) * 3 + k]) / 255
                            let v = last ? a : (1 - dx) * a + dx * (Float(px[(r * iw + ix1) * 3 + k]) / 255)
                            part[(r * w + c) * 3 + k] = v
                        }
                    }
                }
            }
        }
        var out = [Float](repeating: 0, count: w * h * 3)
        part.withUnsafeBufferPointer { part in
            out.withUnsafeMutableBufferPointer { out in
                for r in 0..<h {
                    let sy = Float(r) * hScale
                    let iy = min(Int(sy), ih - 1)
                    let dy = sy - Float(iy)
                    let addNext = !(r == h - 1 || ih == 1) && iy + 1 < ih
                    for i in 0..<(w * 3) {
                        var v = (1 - dy) * part[iy * w * 3 + i]
                        if addNext { v += dy * part[(iy + 1) * w * 3 + i] }
                        out[r * w * 3 + i] = v
                    }
                }
            }
        }
        return out
    }
}
