import Foundation

/// Small images held in memory as one byte buffer: IDX files (MNIST,
/// Fashion-MNIST) and scikit-learn's 8x8 digits. Grey images are expanded to
/// RGB when loaded; `Preprocessing` resizes them to a model's input size.
public struct InMemoryImageDataset: Dataset {
    public let width: Int
    public let height: Int
    /// 1 (grey) or 3 (RGB).
    public let channels: Int
    /// `count * height * width * channels` bytes, item-major.
    public let pixels: [UInt8]
    public let classNames: [String]
    private let labelsByIndex: [Int]
    /// Ids are `<idPrefix>#<index>`.
    public let idPrefix: String

    public var count: Int { labelsByIndex.count }
    public var kind: DataKind { .image }

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8], labels: [Int], classNames: [String],
                idPrefix: String) throws(DatasetError) {
        guard width > 0, height > 0, channels == 1 || channels == 3 else {
            throw .mismatch("\(idPrefix): unsupported image shape \(width)x\(height)x\(channels)")
        }
        guard pixels.count == labels.count * width * height * channels else {
            throw .mismatch("\(idPrefix): \(pixels.count) pixel bytes for \(labels.count) images of \(width)x\(height)x\(channels)")
        }
        if let bad = labels.first(where: { $0 < 0 || $0 >= classNames.count }) {
            throw .mismatch("\(idPrefix): label \(bad) outside the \(classNames.count) classes")
        }
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
        self.labelsByIndex = labels
        self.classNames = classNames
        self.idPrefix = idPrefix
    }

    public func label(at index: Int) -> Int { labelsByIndex[index] }
    public func sourceID(at index: Int) -> String { "\(idPrefix)#\(index)" }
    public func item(at index: Int) throws -> DataItem { .image(image(at: index)) }

    /// Item `index` as RGB (grey replicated to three channels).
    public func image(at index: Int) -> RGBImage {
        let n = width * height * channels
        let slice = Array(pixels[(index * n)..<((index + 1) * n)])
        if channels == 3 { return RGBImage(uncheckedWidth: width, height: height, pixels: slice) }
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) { rgb[3 * i] = slice[i]; rgb[3 * i + 1] = slice[i]; rgb[3 * i + 2] = slice[i] }
        return RGBImage(uncheckedWidth: width, height: height, pixels: rgb)
    }

    // MARK: IDX

    /// Reads an IDX image file (`idx3-ubyte`, N x rows x cols, grey) and its IDX
    /// label file (`idx1-ubyte`), gzip-compressed or not.
    public static func idx(images: URL, labels: URL, classNames: [String]? = nil) throws(DatasetError) -> InMemoryImageDataset {
        let imageFile = try IDXFile(url: images)
        let labelFile = try IDXFile(url: labels)
        guard imageFile.dimensions.count == 3 else {
            throw .malformedIDX(path: images.path, reason: "expected 3 dimensions (N, rows, cols), found \(imageFile.dimensions)")
        }
        guard labelFile.dimensions.count == 1 else {
            throw .malformedIDX(path: labels.path, reason: "expected 1 dimension (N), found \(labelFile.dimensions)")
        }
        guard imageFile.dimensions[0] == labelFile.dimensions[0] else {
            throw .mismatch("\(images.path) holds \(imageFile.dimensions[0]) images but \(labels.path) holds \(labelFile.dimensions[0]) labels")
        }
        let labelValues = labelFile.data.map(Int.init)
        let names = classNames ?? (0...(labelValues.max() ?? 0)).map(String.init)
        return try InMemoryImageDataset(width: imageFile.dimensions[2], height: imageFile.dimensions[1], channels: 1,
                                        pixels: imageFile.data, labels: labelValues, classNames: names,
                                        idPrefix: images.lastPathComponent)
    }
}

/// An IDX file of unsigned bytes: magic `00 00 08 <ndims>`, big-endian 32-bit
/// dimensions, then the data.
struct IDXFile {
    let dimensions: [Int]
    let data: [UInt8]

    init(url: URL) throws(DatasetError) {
        let bytes = try Decompression.contents(of: url)
        guard bytes.count >= 4 else { throw .malformedIDX(path: url.path, reason: "\(bytes.count) bytes") }
        let b = [UInt8](bytes.prefix(4))
        guard b[0] == 0, b[1] == 0 else { throw .malformedIDX(path: url.path, reason: "bad magic number") }
        guard b[2] == 0x08 else {
            throw .malformedIDX(path: url.path, reason: "element type 0x\(String(b[2], radix: 16)), only unsigned bytes (0x08) are supported")
        }
        let n = Int(b[3])
        guard n >= 1, bytes.count >= 4 + 4 * n else { throw .malformedIDX(path: url.path, reason: "header cut short") }
        var dims: [Int] = []
        var total = 1
        for d in 0..<n {
            let o = bytes.startIndex + 4 + 4 * d
            let v = Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
            dims.append(v)
            total = total.multipliedReportingOverflow(by: v).overflow ? Int.max : total * v
        }
        let header = 4 + 4 * n
        guard bytes.count - header == total else {
            throw .malformedIDX(path: url.path, reason: "dimensions \(dims) need \(total) bytes of data, found \(bytes.count - header)")
        }
        dimensions = dims
        data = [UInt8](bytes.dropFirst(header))
    }
}
