/// Bilinear resizing with antialiasing, equal to Pillow's
/// `Image.resize(size, Image.BILINEAR)` (which torchvision's `Resize` calls on
/// PIL images): a separable triangle filter whose support grows with the
/// shrink factor, horizontal pass first.
///
/// Two precisions:
/// - `resize` works like Pillow on 8-bit images: 22-bit fixed-point weights and
///   a rounded 8-bit intermediate after the horizontal pass. Bit-identical to Pillow.
/// - `resizeToFloat` works like Pillow on mode "F" images: double weights, a
///   Float32 intermediate, no rounding. Use it to skip the second 8-bit rounding.
///
/// A `region` treats that rectangle as the whole image (edges clamp at the
/// region), so `resize(image, region: r, ...)` equals Pillow's `crop(r).resize(...)`
/// without copying the crop.
public enum Resampler {
    /// Resizes `region` (default: the whole image) to `width` x `height`, 8-bit like Pillow.
    public static func resize(_ image: RGBImage, region: PixelRect? = nil, width: Int, height: Int) -> RGBImage {
        let plan = Plan(image: image, region: region, width: width, height: height,
                        window: PixelRect(x: 0, y: 0, width: width, height: height))
        return RGBImage(uncheckedWidth: width, height: height, pixels: plan.run8(image))
    }

    /// Resizes `region` to `width` x `height` and returns only the `window` of the
    /// result (in output coordinates), as 8-bit RGB: a resize followed by a crop,
    /// computing only the kept pixels.
    public static func resize(_ image: RGBImage, region: PixelRect? = nil, width: Int, height: Int,
                              keeping window: PixelRect) -> RGBImage {
        let plan = Plan(image: image, region: region, width: width, height: height, window: window)
        return RGBImage(uncheckedWidth: plan.window.width, height: plan.window.height, pixels: plan.run8(image))
    }

    /// Like `resize(_:region:width:height:keeping:)` with Float32 arithmetic and
    /// output: HWC values in 0...255, not rounded.
    public static func resizeToFloat(_ image: RGBImage, region: PixelRect? = nil, width: Int, height: Int,
                                     keeping window: PixelRect? = nil) -> [Float] {
        let plan = Plan(image: image, region: region, width: width, height: height,
                        window: window ?? PixelRect(x: 0, y: 0, width: width, height: height))
        return plan.runFloat(image)
    }

    /// Everything both precisions share: the clamped geometry and the filter taps.
    struct Plan {
        let region: PixelRect
        let window: PixelRect
        let horizontal: ResampleWeights
        let vertical: ResampleWeights
        /// Region rows the vertical pass reads, relative to the region: `rowFirst..<rowEnd`.
        let rowFirst: Int, rowEnd: Int

        init(image: RGBImage, region requested: PixelRect?, width: Int, height: Int, window requestedWindow: PixelRect) {
            var r = requested ?? PixelRect(image)
            if !r.isInside(width: image.width, height: image.height) {
                // Clamp a region that leaves the image, keeping at least one pixel.
                let x0 = max(0, min(r.x, image.width - 1)), y0 = max(0, min(r.y, image.height - 1))
                let x1 = max(x0 + 1, min(r.x + r.width, image.width)), y1 = max(y0 + 1, min(r.y + r.height, image.height))
                r = PixelRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
            }
            let outW = max(1, width), outH = max(1, height)
            var win = requestedWindow
            win.x = max(0, min(win.x, outW - 1)); win.y = max(0, min(win.y, outH - 1))
            win.width = max(1, min(win.width, outW - win.x)); win.height = max(1, min(win.height, outH - win.y))
            region = r
            window = win
            horizontal = ResampleWeights(inSize: r.width, outSize: outW)
            vertical = ResampleWeights(inSize: r.height, outSize: outH)
            var lo = Int.max, hi = 0
            for y in win.y..<(win.y + win.height) {
                lo = min(lo, vertical.first[y]); hi = max(hi, vertical.first[y] + vertical.count[y])
            }
            rowFirst = lo
            rowEnd = hi
        }

        /// Pillow's `ImagingResampleHorizontal_8bpc` then `ImagingResampleVertical_8bpc`.
        func run8(_ image: RGBImage) -> [UInt8] {
            let rows = rowEnd - rowFirst
            let rowLength = window.width * 3
            var temp = [UInt8](repeating: 0, count: rows * rowLength)
            let hk = horizontal.fixedPoint(), vk = vertical.fixedPoint()
            image.pixels.withUnsafeBufferPointer { src in
                temp.withUnsafeMutableBufferPointer { dst in
                    Self.horizontal8(src: src.baseAddress!, srcRowLength: image.width * 3,
                                     firstRow: region.y + rowFirst, rows: rows, xOffset: region.x,
                                     window: window, weights: horizontal, fixed: hk, dst: dst.baseAddress!)
                }
            }
            var out = [UInt8](repeating: 0, count: window.height * rowLength)
            temp.withUnsafeBufferPointer { tmp in
                out.withUnsafeMutableBufferPointer { dst in
                    Self.vertical8(src: tmp.baseAddress!, rowLength: rowLength, rowFirst: rowFirst,
                                   window: window, weights: vertical, fixed: vk, dst: dst.baseAddress!)
                }
            }
            return out
        }

        private static let bits = Int32(ResampleWeights.precisionBits)

        /// Pillow's `clip8`: the sum carries the rounding half; shift, clamp to 0...255.
        @inline(__always)
        private static func clip8(_ v: Int32) -> UInt8 {
            v >= (1 << (bits + 8)) ? 255 : (v <= 0 ? 0 : UInt8(truncatingIfNeeded: v >> bits))
        }

        private static func horizontal8(src: UnsafePointer<UInt8>, srcRowLength: Int, firstRow: Int, rows: Int,
                                        xOffset: Int, window: PixelRect, weights: ResampleWeights, fixed: [Int32],
                                        dst: UnsafeMutablePointer<UInt8>) {
            let half: Int32 = 1 << (bits - 1)
            let taps = weights.taps, tw = window.width
            weights.first.withUnsafeBufferPointer { first in
                weights.count.withUnsafeBufferPointer { count in
                    fixed.withUnsafeBufferPointer { k in
                        for row in 0..<rows {
                            let srcRow = src + (firstRow + row) * srcRowLength + xOffset * 3
                            var d = dst + row * tw * 3
                            for x in window.x..<(window.x + tw) {
                                var s = srcRow + first[x] * 3
                                var w = k.baseAddress! + x * taps
                                var r = half, g = half, b = half
                                for _ in 0..<count[x] {
                                    let wt = w.pointee
                                    r &+= Int32(s[0]) &* wt
                                    g &+= Int32(s[1]) &* wt
                                    b &+= Int32(s[2]) &* wt
                                    s += 3
                                    w += 1
                                }
                                d[0] = clip8(r); d[1] = clip8(g); d[2] = clip8(b)
                                d += 3
                            }
                        }
                    }
                }
            }
        }

        private static func vertical8(src: UnsafePointer<UInt8>, rowLength: Int, rowFirst: Int, window: PixelRect,
                                      weights: ResampleWeights, fixed: [Int32], dst: UnsafeMutablePointer<UInt8>) {
            let half: Int32 = 1 << (bits - 1)
            let acc = UnsafeMutablePointer<Int32>.allocate(capacity: rowLength)
            defer { acc.deallocate() }
            weights.first.withUnsafeBufferPointer { first in
                weights.count.withUnsafeBufferPointer { count in
                    fixed.withUnsafeBufferPointer { k in
                        for oy in 0..<window.height {
                            let y = window.y + oy
                            acc.update(repeating: half, count: rowLength)
                            for t in 0..<count[y] {
                                let wt = k[y * weights.taps + t]
                                let s = src + (first[y] + t - rowFirst) * rowLength
                                for i in 0..<rowLength { acc[i] &+= Int32(s[i]) &* wt }
                            }
                            let d = dst + oy * rowLength
                            for i in 0..<rowLength { d[i] = clip8(acc[i]) }
                        }
                    }
                }
            }
        }

        /// Pillow's mode "F" passes: double sums, Float32 storage between passes.
        func runFloat(_ image: RGBImage) -> [Float] {
            let rows = rowEnd - rowFirst
            let tw = window.width, rowLength = tw * 3
            var temp = [Float](repeating: 0, count: rows * rowLength)
            image.pixels.withUnsafeBufferPointer { src in
                temp.withUnsafeMutableBufferPointer { dst in
                    horizontal.weights.withUnsafeBufferPointer { k in
                        for row in 0..<rows {
                            let srcRow = (region.y + rowFirst + row) * image.width * 3
                            for ox in 0..<tw {
                                let x = window.x + ox
                                let start = srcRow + (region.x + horizontal.first[x]) * 3
                                let kBase = x * horizontal.taps
                                var r = 0.0, g = 0.0, b = 0.0
                                for t in 0..<horizontal.count[x] {
                                    let w = k[kBase + t], s = start + 3 * t
                                    r += Double(src[s]) * w
                                    g += Double(src[s + 1]) * w
                                    b += Double(src[s + 2]) * w
                                }
                                let d = (row * tw + ox) * 3
                                dst[d] = Float(r); dst[d + 1] = Float(g); dst[d + 2] = Float(b)
                            }
                        }
                    }
                }
            }
            var out = [Float](repeating: 0, count: window.height * rowLength)
            var acc = [Double](repeating: 0, count: rowLength)
            temp.withUnsafeBufferPointer { tmp in
                out.withUnsafeMutableBufferPointer { dst in
                    acc.withUnsafeMutableBufferPointer { acc in
                        vertical.weights.withUnsafeBufferPointer { k in
                            for oy in 0..<window.height {
                                let y = window.y + oy
                                for i in 0..<rowLength { acc[i] = 0 }
                                let kBase = y * vertical.taps
                                for t in 0..<vertical.count[y] {
                                    let w = k[kBase + t]
                                    let s = (vertical.first[y] + t - rowFirst) * rowLength
                                    for i in 0..<rowLength { acc[i] += Double(tmp[s + i]) * w }
                                }
                                let d = oy * rowLength
                                for i in 0..<rowLength { dst[d + i] = Float(acc[i]) }
                            }
                        }
                    }
                }
            }
            return out
        }
    }
}
