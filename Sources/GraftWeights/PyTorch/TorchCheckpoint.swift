/// What both PyTorch formats share: the storage persistent id, and turning the unpickled
/// object into tensors once the storages' bytes are known.
enum TorchCheckpoint {
    /// Parses `('storage', torch.FloatStorage, key, location, numel[, view_metadata])`.
    static func storageRef(_ pid: PickleValue, file: String, at offset: Int) throws -> StorageRef {
        func bad(_ why: String) -> WeightsError {
            .malformed(file: file, offset: offset, context: "pickle persistent id", reason: why)
        }
        guard case let .tuple(t) = pid, t.count >= 5, case let .string(tag) = t[0] else { throw bad("not a ('storage', ...) tuple") }
        guard tag == "storage" else { throw WeightsError.unsupported(file: file, context: "pickle persistent id at offset \(offset)", feature: "'\(tag)' records") }
        guard case let .global(.storageType(dtype)) = t[1] else { throw bad("second item is a \(t[1].kind), not a storage type") }
        guard case let .string(key) = t[2] else { throw bad("storage key is a \(t[2].kind)") }
        guard case let .int(count) = t[4], count >= 0 else { throw bad("storage size is not a non-negative int") }
        if t.count > 5, case .tuple = t[5] {
            throw WeightsError.unsupported(file: file, context: "storage '\(key)'", feature: "legacy storage views (view_metadata)")
        }
        let (_, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else { throw bad("storage '\(key)' size \(count) overflows") }
        return StorageRef(key: key, dtype: dtype, count: count)
    }

    /// Records each storage's dtype and size, rejecting a key used with two different ones.
    final class StorageTable {
        private(set) var refs: [String: StorageRef] = [:]
        func add(_ s: StorageRef, file: String, at offset: Int) throws {
            if let old = refs[s.key], old.dtype != s.dtype || old.count != s.count {
                throw WeightsError.malformed(file: file, offset: offset, context: "pickle persistent id",
                    reason: "storage '\(s.key)' declared as \(old.dtype.rawValue)[\(old.count)] and \(s.dtype.rawValue)[\(s.count)]")
            }
            refs[s.key] = s
        }
    }

    static func tensors(root: PickleValue, operations: Int, file: String, fileSize: Int,
                        storageBytes: @escaping (StorageRef) throws -> TensorBytes) throws -> (tensors: [StoredTensor], metadata: [String: String]) {
        var flat = StateDictFlattener(file: file, operations: operations)
        try flat.flatten(root)
        var maker = TensorMaterializer(file: file, budget: CopyBudget(file: file, fileSize: fileSize), storageBytes: storageBytes)
        var tensors: [StoredTensor] = []
        tensors.reserveCapacity(flat.tensors.count)
        for (name, ref) in flat.tensors { tensors.append(try maker.make(name, ref)) }
        return (tensors, flat.metadata)
    }
}
