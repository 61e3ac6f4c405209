/// Turns the object a PyTorch checkpoint unpickles to into named tensors and metadata.
///
/// - Nested dicts, lists and tuples are flattened with dotted keys (`layer.0.weight`).
/// - A checkpoint whose tensors all sit under one wrapper key (`state_dict`, `model`,
///   `model_state_dict`, `module`, `net`, `weights`, `params`) loses that prefix, so
///   `{"state_dict": {...}, "epoch": 3}` reads like the bare state dict; the wrapper's name is
///   kept in metadata under `pytorch.wrapper`.
/// - Scalars (int, float, str, bool, None) become metadata with their dotted key; other
///   non-tensor objects are skipped.
struct StateDictFlattener {
    static let wrappers: Set<String> = ["state_dict", "model", "model_state_dict", "module", "net", "weights", "params"]

    let file: String
    /// Containers and tuples visited; a pickle can share a container many times through the memo,
    /// so the walk is limited to the number of opcodes the pickle ran.
    private var budget: Int
    private(set) var tensors: [(String, TensorRef)] = []
    private(set) var metadata: [String: String] = [:]

    init(file: String, operations: Int) {
        self.file = file
        budget = operations + 16
    }

    mutating func flatten(_ root: PickleValue) throws {
        try visit(root, path: "", depth: 0)
        let firsts = Set(tensors.map { $0.0.split(separator: ".", maxSplits: 1).first.map(String.init) ?? "" })
        if firsts.count == 1, let w = firsts.first, Self.wrappers.contains(w), tensors.allSatisfy({ $0.0.hasPrefix(w + ".") }) {
            tensors = tensors.map { (String($0.0.dropFirst(w.count + 1)), $0.1) }
            metadata["pytorch.wrapper"] = w
        }
    }

    private mutating func visit(_ v: PickleValue, path: String, depth: Int) throws {
        budget -= 1
        guard budget >= 0, depth < 64 else {
            throw WeightsError.malformed(file: file, offset: 0, context: "pickle object graph",
                                         reason: depth >= 64 ? "nested deeper than 64 levels" : "more shared references than objects")
        }
        func child(_ key: String) -> String { path.isEmpty ? key : path + "." + key }
        switch v {
        case let .tensor(t): tensors.append((path, t))
        case let .dict(d):
            for (k, value) in zip(d.keys, d.values) {
                let name: String
                switch k {
                case let .string(s): name = s
                case let .int(i): name = String(i)
                default: continue
                }
                try visit(value, path: child(name), depth: depth + 1)
            }
        case let .list(l):
            for (i, item) in l.items.enumerated() { try visit(item, path: child(String(i)), depth: depth + 1) }
        case let .tuple(items):
            for (i, item) in items.enumerated() { try visit(item, path: child(String(i)), depth: depth + 1) }
        case let .int(i): metadata[path] = String(i)
        case let .float(x): metadata[path] = String(x)
        case let .string(s): metadata[path] = s
        case let .bool(b): metadata[path] = b ? "True" : "False"
        case .none: metadata[path] = "None"
        case .bigInt, .bytes, .global, .storage: break
        }
    }
}

/// Turns strided tensor views into `StoredTensor`s: zero-copy when a view is contiguous,
/// a bounds-checked copy (within the file's copy budget) otherwise.
struct TensorMaterializer {
    let file: String
    var budget: CopyBudget
    /// Raw bytes of a storage, already checked to hold `count * dtype.byteSize` bytes.
    let storageBytes: (StorageRef) throws -> TensorBytes

    mutating func make(_ name: String, _ t: TensorRef) throws -> StoredTensor {
        let dtype = t.storage.dtype, es = dtype.byteSize
        guard t.shape.count == t.strides.count else {
            throw WeightsError.invalidTensor(file: file, tensor: name, reason: "size \(t.shape) and stride \(t.strides) differ in rank")
        }
        guard let n = elementCount(t.shape), t.strides.allSatisfy({ $0 >= 0 }), t.offset >= 0 else {
            throw WeightsError.invalidTensor(file: file, tensor: name, reason: "size \(t.shape), stride \(t.strides) or offset \(t.offset) is negative or overflows")
        }
        let source = try storageBytes(t.storage)
        if n == 0 { return try StoredTensor(name: name, dtype: dtype, shape: t.shape, bytes: TensorBytes([]), file: file) }
        guard let last = lastIndex(shape: t.shape, strides: t.strides, offset: t.offset), last < t.storage.count else {
            throw WeightsError.invalidTensor(file: file, tensor: name,
                reason: "view (offset \(t.offset), size \(t.shape), stride \(t.strides)) reaches past its storage '\(t.storage.key)' of \(t.storage.count) elements")
        }
        if isContiguous(shape: t.shape, strides: t.strides) {
            return try StoredTensor(name: name, dtype: dtype, shape: t.shape,
                                    bytes: source.storage.view(source.offset + t.offset * es, n * es), file: file)
        }
        try budget.spend(n * es, "strided tensor '\(name)'")
        let copy = source.withUnsafeBytes { raw in
            raw.baseAddress.map { gatherStrided($0, elementSize: es, shape: t.shape, strides: t.strides, offset: t.offset) } ?? .empty
        }
        return try StoredTensor(name: name, dtype: dtype, shape: t.shape, bytes: copy.view(0, n * es), file: file)
    }
}
