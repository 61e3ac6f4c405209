/// Labelled features and their labels, one chunk of a larger data set.
public struct LabeledChunk: Sendable {
    public var features: FeatureMatrix
    public var labels: [Int]

    public init(features: FeatureMatrix, labels: [Int]) {
        self.features = features
        self.labels = labels
    }
}

/// Labelled features delivered chunk by chunk (for example the shards of a feature store), so a
/// head can be trained on more rows than fit in memory. Chunks are loaded by index so training can
/// visit them in a shuffled order each epoch.
public protocol FeatureChunkSource {
    /// Columns of every chunk.
    var featureCount: Int { get }
    /// Number of chunks.
    var chunkCount: Int { get }
    /// Loads chunk `index` (`0 ..< chunkCount`).
    func chunk(at index: Int) throws -> LabeledChunk
}

/// Chunks produced by a closure.
public struct ClosureChunkSource: FeatureChunkSource {
    public let featureCount: Int
    public let chunkCount: Int
    private let load: (Int) throws -> LabeledChunk

    public init(featureCount: Int, chunkCount: Int, load: @escaping (Int) throws -> LabeledChunk) {
        self.featureCount = featureCount
        self.chunkCount = chunkCount
        self.load = load
    }

    public func chunk(at index: Int) throws -> LabeledChunk { try load(index) }
}

/// An in-memory matrix served as consecutive chunks of `rowsPerChunk` rows (tests, small data).
public struct InMemoryChunks: FeatureChunkSource {
    public let features: FeatureMatrix
    public let labels: [Int]
    public let rowsPerChunk: Int

    public init(features: FeatureMatrix, labels: [Int], rowsPerChunk: Int) throws(HeadsError) {
        guard labels.count == features.rows else {
            throw .labelCountMismatch(rows: features.rows, labels: labels.count)
        }
        guard rowsPerChunk > 0 else {
            throw .invalidOption(name: "rowsPerChunk", reason: "must be > 0, got \(rowsPerChunk)")
        }
        self.features = features
        self.labels = labels
        self.rowsPerChunk = rowsPerChunk
    }

    public var featureCount: Int { features.columns }
    public var chunkCount: Int { (features.rows + rowsPerChunk - 1) / rowsPerChunk }

    public func chunk(at index: Int) throws -> LabeledChunk {
        guard index >= 0, index < chunkCount else {
            throw HeadsError.chunkSource(index: index, reason: "out of range 0..<\(chunkCount)")
        }
        let rows = Array(index * rowsPerChunk ..< min((index + 1) * rowsPerChunk, features.rows))
        return LabeledChunk(features: try features.selectingRows(rows), labels: rows.map { labels[$0] })
    }
}
