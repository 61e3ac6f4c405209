/// Width and height read from a PNG or JPEG header without decoding, so an
/// oversized image is refused before its pixels are allocated.
enum ImageHeader {
    /// nil when the bytes are not a PNG or JPEG whose header could be read
    /// (the decoder then reports what is wrong).
    static func dimensions(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
        if bytes.count >= 24 && bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            return (be32(bytes, 16), be32(bytes, 20))
        }
        guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return nil }
        var i = 2
        while i + 3 < bytes.count {
            guard bytes[i] == 0xFF else { return nil }
            var marker = bytes[i + 1]
            while marker == 0xFF && i + 2 < bytes.count { i += 1; marker = bytes[i + 1] }  // fill bytes
            i += 2
            if marker == 0x01 || (0xD0...0xD8).contains(marker) { continue }  // markers without a length
            guard i + 1 < bytes.count else { return nil }
            let length = Int(bytes[i]) << 8 | Int(bytes[i + 1])
            // Start of frame (baseline, progressive, ...): not DHT (C4), JPG (C8) or DAC (CC).
            if (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) {
                guard i + 6 < bytes.count else { return nil }
                return (Int(bytes[i + 5]) << 8 | Int(bytes[i + 6]), Int(bytes[i + 3]) << 8 | Int(bytes[i + 4]))
            }
            guard length >= 2 else { return nil }
            i += length
        }
        return nil
    }

    private static func be32(_ b: [UInt8], _ o: Int) -> Int {
        Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3])
    }
}
