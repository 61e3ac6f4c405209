/// The EXIF orientation tag (0x0112): how the stored pixels must be turned to
/// be shown upright. Values and transforms follow the EXIF 2.3 spec, the same
/// mapping as PIL's `ImageOps.exif_transpose`.
public enum ExifOrientation: Int, Sendable, CaseIterable {
    case up = 1                    // as stored
    case upMirrored = 2            // mirror left-right
    case down = 3                  // rotate 180
    case downMirrored = 4          // mirror top-bottom
    case leftMirrored = 5          // transpose (mirror along the main diagonal)
    case right = 6                 // rotate 90 clockwise
    case rightMirrored = 7         // transverse (mirror along the anti-diagonal)
    case left = 8                  // rotate 90 counter-clockwise

    /// Reads the orientation from the first APP1 Exif segment of a JPEG.
    /// Returns `.up` when there is none or it is malformed: every read is
    /// bounds-checked, so a hostile segment cannot trap.
    static func read(jpeg bytes: UnsafeRawBufferPointer) -> ExifOrientation {
        let reader = ByteReader(bytes)
        guard reader.u8(at: 0) == 0xFF, reader.u8(at: 1) == 0xD8 else { return .up }
        var i = 2
        while i + 4 <= bytes.count {
            guard reader.u8(at: i) == 0xFF else { return .up }
            var markerAt = i + 1
            while reader.u8(at: markerAt) == 0xFF { markerAt += 1 }   // fill bytes
            guard let marker = reader.u8(at: markerAt) else { return .up }
            if marker == 0xD9 || marker == 0xDA { return .up }         // end of image / start of scan
            if marker == 0x01 || (0xD0...0xD7).contains(marker) { i = markerAt + 1; continue }
            guard let length = reader.u16(at: markerAt + 1, bigEndian: true), length >= 2 else { return .up }
            let dataStart = markerAt + 3, dataEnd = markerAt + 1 + Int(length)
            guard dataEnd <= bytes.count else { return .up }
            if marker == 0xE1, dataEnd - dataStart >= 6,
               Array(bytes[dataStart..<(dataStart + 6)]) == [0x45, 0x78, 0x69, 0x66, 0, 0] {
                return parseTIFF(ByteReader(UnsafeRawBufferPointer(rebasing: bytes[(dataStart + 6)..<dataEnd])))
            }
            i = dataEnd
        }
        return .up
    }

    private static func parseTIFF(_ tiff: ByteReader) -> ExifOrientation {
        let big: Bool
        switch (tiff.u8(at: 0), tiff.u8(at: 1)) {
        case (0x49, 0x49): big = false
        case (0x4D, 0x4D): big = true
        default: return .up
        }
        guard tiff.u16(at: 2, bigEndian: big) == 42,
              let ifd = tiff.u32(at: 4, bigEndian: big).map(Int.init),
              let entries = tiff.u16(at: ifd, bigEndian: big) else { return .up }
        for e in 0..<Int(entries) {
            let entry = ifd + 2 + 12 * e
            guard let tag = tiff.u16(at: entry, bigEndian: big),
                  let type = tiff.u16(at: entry + 2, bigEndian: big) else { return .up }
            guard tag == 0x0112 else { continue }
            let value: Int?
            switch type {
            case 3: value = tiff.u16(at: entry + 8, bigEndian: big).map(Int.init)   // SHORT
            case 4: value = tiff.u32(at: entry + 8, bigEndian: big).map(Int.init)   // LONG (non-standard writers)
            default: value = nil
            }
            return value.flatMap(ExifOrientation.init(rawValue:)) ?? .up
        }
        return .up
    }

    /// Whether width and height trade places.
    var swapsAxes: Bool { rawValue >= 5 }

    /// Turns stored pixels upright.
    func apply(to image: RGBImage) -> RGBImage {
        if self == .up { return image }
        let w = image.width, h = image.height
        let (ow, oh) = swapsAxes ? (h, w) : (w, h)
        var out = [UInt8](repeating: 0, count: image.pixels.count)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<oh {
                    for x in 0..<ow {
                        let (sx, sy): (Int, Int)
                        switch self {
                        case .up: (sx, sy) = (x, y)
                        case .upMirrored: (sx, sy) = (w - 1 - x, y)
                        case .down: (sx, sy) = (w - 1 - x, h - 1 - y)
                        case .downMirrored: (sx, sy) = (x, h - 1 - y)
                        case .leftMirrored: (sx, sy) = (y, x)
                        case .right: (sx, sy) = (y, h - 1 - x)
                        case .rightMirrored: (sx, sy) = (w - 1 - y, h - 1 - x)
                        case .left: (sx, sy) = (w - 1 - y, x)
                        }
                        let s = (sy * w + sx) * 3, d = (y * ow + x) * 3
                        dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return RGBImage(uncheckedWidth: ow, height: oh, pixels: out)
    }
}

/// Bounds-checked big/little-endian reads over a byte buffer: out of range gives `nil`.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func u8(at i: Int) -> UInt8? { i >= 0 && i < bytes.count ? bytes[i] : nil }

    func u16(at i: Int, bigEndian: Bool) -> UInt16? {
        guard i >= 0, i + 2 <= bytes.count else { return nil }
        let a = UInt16(bytes[i]), b = UInt16(bytes[i + 1])
        return bigEndian ? a << 8 | b : b << 8 | a
    }

    func u32(at i: Int, bigEndian: Bool) -> UInt32? {
        guard let hi = u16(at: bigEndian ? i : i + 2, bigEndian: bigEndian),
              let lo = u16(at: bigEndian ? i + 2 : i, bigEndian: bigEndian) else { return nil }
        return UInt32(hi) << 16 | UInt32(lo)
    }
}
