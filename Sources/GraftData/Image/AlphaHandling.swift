/// What happens to an alpha channel when an image becomes RGB.
public enum AlphaHandling: Sendable, Equatable {
    /// Keep the stored colour and ignore alpha: what PIL's `convert("RGB")`
    /// (and so torchvision's `ImageFolder` loader) does. The default, so that
    /// Graft's pixels equal the reference pipeline's.
    case discard
    /// Blend over a solid colour in sRGB space: `c * a/255 + bg * (1 - a/255)`, rounded.
    case composite(red: UInt8, green: UInt8, blue: UInt8)

    public static let overWhite = AlphaHandling.composite(red: 255, green: 255, blue: 255)
    public static let overBlack = AlphaHandling.composite(red: 0, green: 0, blue: 0)

    func flatten(rgba: [UInt8]) -> [UInt8] {
        let n = rgba.count / 4
        var rgb = [UInt8](repeating: 0, count: n * 3)
        rgba.withUnsafeBufferPointer { src in
            rgb.withUnsafeMutableBufferPointer { dst in
                switch self {
                case .discard:
                    for i in 0..<n {
                        dst[3 * i] = src[4 * i]; dst[3 * i + 1] = src[4 * i + 1]; dst[3 * i + 2] = src[4 * i + 2]
                    }
                case .composite(let r, let g, let b):
                    let bg = [Int(r), Int(g), Int(b)]
                    for i in 0..<n {
                        let a = Int(src[4 * i + 3])
                        for c in 0..<3 {
                            dst[3 * i + c] = UInt8((Int(src[4 * i + c]) * a + bg[c] * (255 - a) + 127) / 255)
                        }
                    }
                }
            }
        }
        return rgb
    }
}
