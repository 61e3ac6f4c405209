import Foundation

/// The formats `WeightFile.open` recognises.
public enum WeightFormat: String, Sendable, Codable {
    case safetensors
    /// torch.save since 1.6: a zip with `data.pkl` and one entry per storage.
    case pytorchZip = "pytorch-zip"
    /// torch.save before 1.6: consecutive pickles followed by raw storages.
    case pytorchLegacy = "pytorch-legacy"
    /// A bare pickle (protocol 2-5) without PyTorch framing; it cannot hold storages.
    case pickle
    case onnx
    case npy
    case npz
    /// Built in memory with `WeightFile.init(tensors:metadata:)`.
    case memory
}

/// The tensors of one weights file, in file order, with the file's string metadata.
///
/// `WeightFile.open(url)` detects the format from the first bytes (safetensors, zip, numpy and
/// PyTorch magic) or, for ONNX, from the `.onnx` extension. Tensors of memory-mapped formats
/// are zero-copy views that keep the mapping alive.
public struct WeightFile: Sendable {
    /// The path the tensors came from ("<memory>" when built in memory).
    public let source: String
    public let format: WeightFormat
    public let tensors: [StoredTensor]
    /// safetensors `__metadata__`; for PyTorch, scalar entries of the checkpoint by dotted key
    /// (`epoch`, ...) and `pytorch.wrapper`; for ONNX, `onnx.*` model fields.
    public let metadata: [String: String]
    private let index: [String: Int]

    /// Tensors built in memory (for instance to write them with `writeSafetensors`).
    public init(tensors: [StoredTensor], metadata: [String: String] = [:]) throws {
        try self.init(source: "<memory>", format: .memory, tensors: tensors, metadata: metadata)
    }

    init(source: String, format: WeightFormat, tensors: [StoredTensor], metadata: [String: String]) throws {
        var index: [String: Int] = [:]
        index.reserveCapacity(tensors.count)
        for (i, t) in tensors.enumerated() where index.updateValue(i, forKey: t.name) != nil {
            throw WeightsError.duplicateName(file: source, name: t.name)
        }
        self.source = source
        self.format = format
        self.tensors = tensors
        self.metadata = metadata
        self.index = index
    }

    /// Tensor names in file order.
    public var names: [String] { tensors.map(\.name) }

    public subscript(name: String) -> StoredTensor? { index[name].map { tensors[$0] } }

    /// Opens and validates a weights file of any supported format.
    public static func open(_ url: URL) throws -> WeightFile {
        try read(ByteStorage.map(url), file: url.path, fileExtension: url.pathExtension)
    }

    /// Parses a weights file held in memory (a copy is made). `fileName` names it in errors and,
    /// by its extension, marks ONNX.
    public static func decode(_ bytes: some Sequence<UInt8>, fileName: String = "<memory>") throws -> WeightFile {
        let array = Array(bytes)
        let storage = array.withUnsafeBytes { ByteStorage(copying: $0) }
        return try read(storage, file: fileName, fileExtension: (fileName as NSString).pathExtension)
    }

    /// What format `open` would read `url` as, from its first bytes and extension; nil when none.
    public static func detectFormat(_ url: URL) throws -> WeightFormat? {
        let storage = try ByteStorage.map(url)
        return try? detect(storage, fileExtension: url.pathExtension, file: url.path)
    }

    static func detect(_ storage: ByteStorage, fileExtension: String, file: String) throws -> WeightFormat {
        let b = storage.buffer
        if NpyFormat.looksLike(b) { return .npy }
        if ZipArchive.looksLike(storage) {
            let zip = try ZipArchive(storage, file: file)
            return TorchZipReader.archivePrefix(zip) != nil ? .pytorchZip : .npz
        }
        if TorchLegacyReader.looksLike(storage) { return .pytorchLegacy }
        if fileExtension.lowercased() == "onnx" { return .onnx }
        if SafetensorsReader.looksLike(storage) { return .safetensors }
        if b.count >= 2, b[0] == 0x80, (2...5).contains(b[1]) { return .pickle }
        let head = b.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
        throw WeightsError.unknownFormat(file: file, reason: b.isEmpty ? "the file is empty" : "first bytes \(head)")
    }

    static func read(_ storage: ByteStorage, file: String, fileExtension: String) throws -> WeightFile {
        let format = try detect(storage, fileExtension: fileExtension, file: file)
        let result: (tensors: [StoredTensor], metadata: [String: String])
        switch format {
        case .safetensors:
            result = try SafetensorsReader.read(storage, file: file)
        case .pytorchLegacy:
            result = try TorchLegacyReader.read(storage, file: file)
        case .pytorchZip:
            let zip = try ZipArchive(storage, file: file)
            result = try TorchZipReader.read(storage, zip: zip, prefix: TorchZipReader.archivePrefix(zip) ?? "", file: file)
        case .npz:
            result = (try NpzReader.read(storage, zip: try ZipArchive(storage, file: file), file: file), [:])
        case .npy:
            var budget = CopyBudget(file: file, fileSize: storage.count)
            let name = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
            result = ([try NpyFormat.read(storage, range: 0..<storage.count, name: name, file: file, budget: &budget)], [:])
        case .onnx:
            result = try OnnxReader.read(storage, file: file)
        case .pickle:
            result = try PlainPickleReader.read(storage, file: file)
        case .memory:
            result = ([], [:])
        }
        return try WeightFile(source: file, format: format, tensors: result.tensors, metadata: result.metadata)
    }

    /// Writes the tensors, in order, as safetensors (atomically: a temporary file renamed into
    /// place). `metadata` defaults to the file's own metadata.
    public func writeSafetensors(to url: URL, metadata: [String: String]? = nil) throws {
        try SafetensorsWriter.write(tensors, metadata: metadata ?? self.metadata, to: url)
    }
}

/// A pickle without PyTorch framing: run through the same whitelist; it has no storages, so
/// it can only yield metadata (and errors, such as a disallowed global).
enum PlainPickleReader {
    static func read(_ storage: ByteStorage, file: String) throws -> (tensors: [StoredTensor], metadata: [String: String]) {
        let arena = PickleArena()
        defer { arena.release() }
        var m = PickleMachine(ByteReader(storage, file: file), arena: arena) { _, at in
            throw WeightsError.malformed(file: file, offset: at, context: "pickle", reason: "persistent id outside a PyTorch file")
        }
        let root = try m.run()
        return try TorchCheckpoint.tensors(root: root, operations: m.operations, file: file, fileSize: storage.count) { ref in
            throw WeightsError.malformed(file: file, offset: 0, context: "pickle", reason: "storage '\(ref.key)' outside a PyTorch file")
        }
    }
}
