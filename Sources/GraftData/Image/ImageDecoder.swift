import Foundation

/// Decodes JPEG and PNG files into `RGBImage`. The format is detected from the
/// leading bytes, never from the file name. Value type: share it freely across threads.
///
/// ```swift
/// let image = try ImageDecoder().decode(contentsOf: url)
/// ```
public struct ImageDecoder: Sendable {
    /// Largest accepted width * height: PIL's decompression-bomb error threshold.
    public static let maxPixels = 178_956_970

    /// What to do with PNG alpha channels (JPEG has none).
    public var alpha: AlphaHandling
    /// Rotate/mirror JPEGs as their EXIF orientation tag says (PIL's `exif_transpose`).
    public var appliesExifOrientation: Bool

    public init(alpha: AlphaHandling = .discard, appliesExifOrientation: Bool = true) {
        self.alpha = alpha
        self.appliesExifOrientation = appliesExifOrientation
    }

    /// Reads and decodes a file. Errors name the file's path.
    public func decode(contentsOf url: URL) throws(ImageError) -> RGBImage {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw .unreadable(file: url.path, reason: Self.whyUnreadable(url, error))
        }
        return try decode(data, source: url.path)
    }

    /// Decodes an in-memory file; `source` is the name errors use.
    public func decode(_ data: Data, source: String) throws(ImageError) -> RGBImage {
        let result = data.withUnsafeBytes { raw in
            Result { () throws(ImageError) -> RGBImage in try decode(bytes: raw, source: source) }
        }
        return try result.get()
    }

    /// Decodes raw bytes; `source` is the name errors use.
    public func decode(bytes: UnsafeRawBufferPointer, source: String) throws(ImageError) -> RGBImage {
        guard !bytes.isEmpty else { throw .empty(file: source) }
        switch ImageFormat.sniff(bytes) {
        case .decodable(.jpeg):
            let image = try JPEGDecoder.decode(bytes, file: source)
            return appliesExifOrientation ? ExifOrientation.read(jpeg: bytes).apply(to: image) : image
        case .decodable(.png):
            return try PNGDecoder.decode(bytes, file: source, alpha: alpha)
        case .unsupported(let name):
            throw .unsupportedFormat(file: source, format: name)
        case .unknown:
            throw .unknownFormat(file: source, leadingBytes: ImageFormat.hexPrefix(bytes))
        }
    }

    /// A plain reason for a failed read: Foundation's own messages are vague on Linux.
    static func whyUnreadable(_ url: URL, _ error: any Error) -> String {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) { return "no such file" }
        if isDirectory.boolValue { return "is a directory" }
        if !FileManager.default.isReadableFile(atPath: url.path) { return "permission denied" }
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError { return underlying.localizedDescription }
        return ns.localizedDescription
    }
}
