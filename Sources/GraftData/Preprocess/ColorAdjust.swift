/// Pillow's `ImageEnhance` arithmetic (which torchvision's `adjust_brightness`,
/// `adjust_contrast` and `adjust_saturation` call on PIL images): blend the image
/// with a degenerate one, `out = degenerate + factor * (image - degenerate)` in
/// Float32, truncated and clipped to 0...255 (`ImagingBlend`).
public enum ColorAdjust {
    /// Blend with black.
    public static func brightness(_ image: RGBImage, factor: Double) -> RGBImage {
        blend(image, factor: factor) { _, _ in 0 }
    }

    /// Blend with the mean grey level, rounded to an integer (`ImageStat` mean + 0.5).
    public static func contrast(_ image: RGBImage, factor: Double) -> RGBImage {
        let n = image.width * image.height
        var total = 0
        for i in 0..<n { total += Int(luma(image.pixels, i)) }
        let mean = UInt8(clamping: Int(Double(total) / Double(n) + 0.5))
        return blend(image, factor: factor) { _, _ in mean }
    }

    /// Blend with the image's own grey version.
    public static func saturation(_ image: RGBImage, factor: Double) -> RGBImage {
        blend(image, factor: factor) { pixels, i in luma(pixels, i) }
    }

    /// Pillow's RGB to L conversion (ITU-R 601-2 with 16-bit fixed point, rounded).
    @inline(__always)
    static func luma(_ p: [UInt8], _ i: Int) -> UInt8 {
        let v = Int(p[3 * i]) * 19595 + Int(p[3 * i + 1]) * 38470 + Int(p[3 * i + 2]) * 7471 + 0x8000
        return UInt8(truncatingIfNeeded: v >> 16)
    }

    private static func blend(_ image: RGBImage, factor: Double,
                              degenerate: ([UInt8], Int) -> UInt8) -> RGBImage {
        let alpha = Float(factor)
        var out = [UInt8](repeating: 0, count: image.pixels.count)
        for i in 0..<(image.width * image.height) {
            let d = Float(degenerate(image.pixels, i))
            for c in 0..<3 {
                let v = d + alpha * (Float(image.pixels[3 * i + c]) - d)
                out[3 * i + c] = v <= 0 ? 0 : (v >= 255 ? 255 : UInt8(v))
            }
        }
        return RGBImage(uncheckedWidth: image.width, height: image.height, pixels: out)
    }
}
