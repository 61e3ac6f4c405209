/// Draws labelled boxes onto an RGB image (annotated outputs of `graft detect --draw` and reports).
extension RGBImage {
    /// A distinct, stable colour per class index (golden-ratio hues).
    public static func boxColor(_ classIndex: Int) -> (UInt8, UInt8, UInt8) {
        let h = (Double(classIndex) * 0.618_033_988_75).truncatingRemainder(dividingBy: 1) * 6
        let i = Int(h), f = h - Double(i)
        let (r, g, b): (Double, Double, Double) = switch i {
        case 0: (1, f, 0.2)
        case 1: (1 - f, 1, 0.2)
        case 2: (0.2, 1, f)
        case 3: (0.2, 1 - f, 1)
        case 4: (f, 0.2, 1)
        default: (1, 0.2, 1 - f)
        }
        return (UInt8(r * 230), UInt8(g * 230), UInt8(b * 230))
    }

    /// The image with a `thickness`-pixel rectangle around `box` and `label` on a filled band above it
    /// (inside the box when there is no room above). Everything is clipped to the image.
    public func drawing(box: BoundingBox, label: String, color: (UInt8, UInt8, UInt8), thickness: Int = 2) -> RGBImage {
        var out = self
        let x0 = Int(box.x.rounded()), y0 = Int(box.y.rounded())
        let x1 = Int(box.maxX.rounded()) - 1, y1 = Int(box.maxY.rounded()) - 1
        func fill(_ xa: Int, _ ya: Int, _ xb: Int, _ yb: Int, _ c: (UInt8, UInt8, UInt8)) {
            let l = max(0, xa), r = min(width - 1, xb), t = max(0, ya), b = min(height - 1, yb)
            guard l <= r, t <= b else { return }
            for y in t...b { for x in l...r {
                let i = (y * width + x) * 3
                out.pixels[i] = c.0; out.pixels[i + 1] = c.1; out.pixels[i + 2] = c.2
            } }
        }
        for k in 0..<thickness {
            fill(x0, y0 + k, x1, y0 + k, color); fill(x0, y1 - k, x1, y1 - k, color)
            fill(x0 + k, y0, x0 + k, y1, color); fill(x1 - k, y0, x1 - k, y1, color)
        }
        let textHeight = BitmapFont.height + 2
        let top = y0 - textHeight >= 0 ? y0 - textHeight : y0
        let characters = Array(label)
        fill(x0, top, x0 + characters.count * BitmapFont.width + 3, top + textHeight - 1, color)
        for (n, ch) in characters.enumerated() {
            for gy in 0..<BitmapFont.height { for gx in 0..<BitmapFont.width where BitmapFont.isSet(ch, x: gx, y: gy) {
                let x = x0 + 2 + n * BitmapFont.width + gx, y = top + 1 + gy
                guard x >= 0, x < width, y >= 0, y < height else { continue }
                let i = (y * width + x) * 3
                out.pixels[i] = 0; out.pixels[i + 1] = 0; out.pixels[i + 2] = 0
            } }
        }
        return out
    }
}
