import Foundation

/// A Darknet `.weights` file read against its `.cfg`.
///
/// Layout (src/parser.c `load_weights_upto`): int32 major, minor, revision; the count of images
/// seen in training (int64 when major * 10 + minor >= 2, else int32); then, for each
/// `[convolutional]` in cfg order, float32 biases (or, with batch norm, beta, gamma, running mean,
/// running variance), then the weights `[filters, channels / groups, size, size]`.
///
/// The whole size is computed from the cfg and compared with the file before anything is read, and
/// every float must be consumed: a file for another cfg is refused instead of half-loaded. Tensors
/// are zero-copy views of the mapped file, named like a PyTorch port would name them:
/// `layers.{i}.conv.weight`, `layers.{i}.conv.bias`, `layers.{i}.bn.{weight,bias,running_mean,running_var}`.
public struct DarknetWeights: Sendable {
    public let major: Int32, minor: Int32, revision: Int32
    /// Images seen in training (informational).
    public let seen: Int64
    public let tensors: [StoredTensor]

    /// Header bytes: 12 for the version, then 8 (or 4 for old files) for `seen`.
    static func headerSize(major: Int32, minor: Int32) -> Int {
        (Int(major) * 10 + Int(minor) >= 2 && major < 1000 && minor < 1000) ? 20 : 16
    }

    /// The weights as a `WeightFile` (format `.memory`), for `Module.load`.
    public func weightFile() throws -> WeightFile {
        try WeightFile(tensors: tensors, metadata: ["darknet.version": "\(major).\(minor).\(revision)", "darknet.seen": "\(seen)"])
    }

    public static func read(_ url: URL, config: DarknetConfig) throws -> DarknetWeights {
        try read(ByteStorage.map(url), file: url.path, config: config)
    }

    /// Reads weights from bytes in memory (tests, fuzzing).
    public static func read(bytes: [UInt8], file: String = "<memory>", config: DarknetConfig) throws -> DarknetWeights {
        let storage = bytes.withUnsafeBytes { ByteStorage(copying: $0) }
        return try read(storage, file: file, config: config)
    }

    static func read(_ storage: ByteStorage, file: String, config: DarknetConfig) throws -> DarknetWeights {
        var r = ByteReader(storage, file: file)
        let major = Int32(bitPattern: try r.u32("darknet header (major version)"))
        let minor = Int32(bitPattern: try r.u32("darknet header (minor version)"))
        let revision = Int32(bitPattern: try r.u32("darknet header (revision)"))
        guard major >= 0, minor >= 0, revision >= 0 else {
            throw WeightsError.malformed(file: file, offset: 0, context: "darknet header", reason: "negative version \(major).\(minor).\(revision)")
        }
        let seen: Int64 = headerSize(major: major, minor: minor) == 20
            ? Int64(bitPattern: try r.u64("darknet header (images seen)"))
            : Int64(Int32(bitPattern: try r.u32("darknet header (images seen)")))

        // Sizes from the cfg, checked against the file before any tensor is made.
        let floats = config.parameterCount
        let (bytes, overflow) = floats.multipliedReportingOverflow(by: 4)
        guard !overflow, bytes <= r.remaining else {
            throw WeightsError.sizeExceedsFile(file: file, context: "\(config.file) declares \(floats) floats of weights",
                                               declared: overflow ? UInt64.max : UInt64(bytes), available: r.remaining)
        }
        guard bytes == r.remaining else {
            throw WeightsError.malformed(file: file, offset: r.position + bytes, context: "darknet weights",
                reason: "\(r.remaining - bytes) bytes left after the \(floats) floats \(config.file) declares: the file is for another cfg")
        }

        var tensors: [StoredTensor] = []
        func take(_ name: String, _ shape: [Int], _ layer: DarknetLayer) throws {
            let n = shape.reduce(1, *) * 4
            let range = try r.take(n, "[convolutional] (layer \(layer.index), cfg line \(layer.line)) \(name)")
            tensors.append(try StoredTensor(name: name, dtype: .f32, shape: shape,
                                            bytes: storage.view(range.lowerBound, n), file: file))
        }
        for layer in config.layers {
            guard case let .convolutional(c) = layer.kind else { continue }
            let p = "layers.\(layer.index)."
            if c.batchNormalize {
                try take(p + "bn.bias", [c.filters], layer)
                try take(p + "bn.weight", [c.filters], layer)
                try take(p + "bn.running_mean", [c.filters], layer)
                try take(p + "bn.running_var", [c.filters], layer)
            } else {
                try take(p + "conv.bias", [c.filters], layer)
            }
            try take(p + "conv.weight", c.weightShape, layer)
        }
        return DarknetWeights(major: major, minor: minor, revision: revision, seen: seen, tensors: tensors)
    }
}
