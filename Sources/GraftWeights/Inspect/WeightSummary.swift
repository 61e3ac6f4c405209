import Foundation

/// What `graft inspect` reports about a weights file; `Codable` for `--json`.
public struct WeightSummary: Codable, Sendable, Equatable {
    public struct Tensor: Codable, Sendable, Equatable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        public let bytes: Int
    }

    public let file: String
    public let format: WeightFormat
    public let tensorCount: Int
    /// Total elements over all tensors.
    public let elementCount: Int
    public let totalBytes: Int
    public let tensors: [Tensor]
    public let metadata: [String: String]

    public init(_ file: WeightFile) {
        self.file = file.source
        format = file.format
        tensors = file.tensors.map { Tensor(name: $0.name, dtype: $0.dtype, shape: $0.shape, bytes: $0.bytes.count) }
        tensorCount = tensors.count
        elementCount = file.tensors.reduce(0) { $0 + $1.elementCount }
        totalBytes = tensors.reduce(0) { $0 + $1.bytes }
        metadata = file.metadata
    }

    /// Pretty-printed JSON with sorted keys (tensors stay in file order).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

/// A human-readable table of a file's tensors: name, dtype, shape, bytes, then totals and metadata.
public func inspectReport(_ file: WeightFile) -> String {
    let s = WeightSummary(file)
    let shapes = s.tensors.map { "[" + $0.shape.map(String.init).joined(separator: ", ") + "]" }
    let nameWidth = min(max(4, s.tensors.map(\.name.count).max() ?? 0), 72)
    let shapeWidth = max(5, shapes.map(\.count).max() ?? 0)
    func pad(_ x: String, _ n: Int) -> String { x.count >= n ? x : x + String(repeating: " ", count: n - x.count) }
    func lpad(_ x: String, _ n: Int) -> String { x.count >= n ? x : String(repeating: " ", count: n - x.count) + x }
    var lines = ["\(s.file) (\(s.format.rawValue))"]
    lines.append(pad("name", nameWidth) + "  " + pad("dtype", 5) + "  " + pad("shape", shapeWidth) + "  " + lpad("bytes", 12))
    for (t, shape) in zip(s.tensors, shapes) {
        lines.append(pad(t.name, nameWidth) + "  " + pad(t.dtype.rawValue, 5) + "  " + pad(shape, shapeWidth) + "  " + lpad(String(t.bytes), 12))
    }
    lines.append("\(s.tensorCount) tensors, \(s.elementCount) elements, \(s.totalBytes) bytes")
    for (k, v) in s.metadata.sorted(by: { $0.key < $1.key }) {
        lines.append("metadata \(k) = \(v.count > 200 ? String(v.prefix(200)) + "..." : v)")
    }
    return lines.joined(separator: "\n")
}
