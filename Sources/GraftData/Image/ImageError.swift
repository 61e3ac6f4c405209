/// Why an image could not be decoded. Every case names the file (or the label
/// the caller gave an in-memory buffer) so batch jobs can report it and go on.
public enum ImageError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be read at all (missing, a directory, permission denied).
    case unreadable(file: String, reason: String)
    /// The file has zero bytes.
    case empty(file: String)
    /// The leading bytes match no image format Graft knows.
    case unknownFormat(file: String, leadingBytes: String)
    /// A known format that Graft does not decode (GIF, BMP, TIFF, WebP).
    case unsupportedFormat(file: String, format: String)
    /// The data ends before the image does.
    case truncated(file: String, format: ImageFormat, reason: String)
    /// The decoder rejected the data.
    case corrupt(file: String, format: ImageFormat, reason: String)
    /// Width times height exceeds `ImageDecoder.maxPixels` (a decompression-bomb guard).
    case tooLarge(file: String, width: Int, height: Int)

    /// The file or label the error refers to.
    public var file: String {
        switch self {
        case .unreadable(let f, _), .empty(let f), .unknownFormat(let f, _), .unsupportedFormat(let f, _),
             .truncated(let f, _, _), .corrupt(let f, _, _), .tooLarge(let f, _, _):
            return f
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let f, let reason): return "\(f): cannot read file (\(reason))"
        case .empty(let f): return "\(f): file is empty (0 bytes)"
        case .unknownFormat(let f, let lead): return "\(f): not a JPEG or PNG image (leading bytes \(lead))"
        case .unsupportedFormat(let f, let fmt): return "\(f): \(fmt) images are not supported (JPEG and PNG are)"
        case .truncated(let f, let fmt, let reason): return "\(f): truncated \(fmt) data (\(reason))"
        case .corrupt(let f, let fmt, let reason): return "\(f): corrupt \(fmt) data (\(reason))"
        case .tooLarge(let f, let w, let h):
            return "\(f): image of \(w)x\(h) pixels exceeds the limit of \(ImageDecoder.maxPixels) pixels"
        }
    }
}
