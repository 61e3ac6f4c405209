/// Integer indices: class labels, token ids, attention masks. Int32 is the
/// working type; Int64 data (PyTorch's default) converts on the way in.
public struct IndexTensor: Sendable, Equatable {
    public let shape: [Int]
    public let values: [Int32]

    public init(shape: [Int], values: [Int32]) throws {
        guard shape.reduce(1, *) == values.count else {
            throw TensorError.invalidShape(op: "IndexTensor", shape: shape, reason: "needs \(shape.reduce(1, *)) values, got \(values.count)")
        }
        self.shape = shape
        self.values = values
    }

    public init(_ values: [Int]) {
        self.shape = [values.count]
        self.values = values.map { Int32(truncatingIfNeeded: $0) }
    }

    public init(shape: [Int], int64 values: [Int64]) throws {
        try self.init(shape: shape, values: values.map { Int32(truncatingIfNeeded: $0) })
    }

    public var count: Int { values.count }
}
