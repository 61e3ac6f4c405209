/// Image container formats, recognised by their leading bytes (never by file extension).
public enum ImageFormat: String, Sendable, Equatable, CustomStringConvertible {
    case jpeg = "JPEG"
    case png = "PNG"

    public var description: String { rawValue }

    /// What the leading bytes say the data is.
    enum Sniffed: Equatable {
        case decodable(ImageFormat)
        case unsupported(String)
        case unknown
    }

    static func sniff(_ bytes: UnsafeRawBufferPointer) -> Sniffed {
        func starts(_ magic: [UInt8]) -> Bool {
            bytes.count >= magic.count && zip(bytes, magic).allSatisfy { $0 == $1 }
        }
        if starts([0xFF, 0xD8, 0xFF]) { return .decodable(.jpeg) }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .decodable(.png) }
        if starts(Array("GIF8".utf8)) { return .unsupported("GIF") }
        if starts(Array("BM".utf8)) { return .unsupported("BMP") }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .unsupported("TIFF") }
        if starts(Array("RIFF".utf8)), bytes.count >= 12,
           Array(bytes[8..<12]) == Array("WEBP".utf8) { return .unsupported("WebP") }
        return .unknown
    }

    /// Up to eight leading bytes in hex, for error messages.
    static func hexPrefix(_ bytes: UnsafeRawBufferPointer) -> String {
        bytes.prefix(8).map { byte in
            let s = String(byte, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined(separator: " ")
    }
}
