/// Reads the legacy (pre-1.6) PyTorch format, as `torch/serialization.py` `_legacy_load` does:
/// five consecutive pickles (magic number, protocol version 1001, sys_info, the object with
/// storages as persistent ids, the list of storage keys), then each storage's raw bytes in that
/// order, each preceded by its element count as a little-endian int64.
enum TorchLegacyReader {
    /// PROTO 2, LONG1 of 10 bytes: 0x1950a86a20f9469cfc6c, STOP.
    static let magic: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]

    static func looksLike(_ storage: ByteStorage) -> Bool { storage.buffer.starts(with: magic) }

    static func read(_ storage: ByteStorage, file: String) throws -> (tensors: [StoredTensor], metadata: [String: String]) {
        var r = ByteReader(storage, file: file)
        guard looksLike(storage) else { throw r.malformed("legacy PyTorch magic number", "missing", at: 0) }
        r.position = magic.count
        let arena = PickleArena()
        defer { arena.release() }
        func noPersistent(_: PickleValue, _ at: Int) throws -> PickleValue {
            throw WeightsError.malformed(file: file, offset: at, context: "pickle", reason: "persistent id in a header pickle")
        }

        var m = PickleMachine(r, arena: arena, persistentLoad: noPersistent)
        let version = try m.run()
        guard case .int(1001) = version else {
            throw WeightsError.unsupported(file: file, context: "legacy PyTorch file", feature: "protocol version \(version)")
        }
        r.position = m.position

        m = PickleMachine(r, arena: arena, persistentLoad: noPersistent)
        if case let .dict(info) = try m.run() {
            for (k, v) in zip(info.keys, info.values) {
                if case .string("little_endian") = k, case .bool(false) = v {
                    throw WeightsError.unsupported(file: file, context: "legacy PyTorch file", feature: "big-endian data")
                }
            }
        }
        r.position = m.position

        let table = TorchCheckpoint.StorageTable()
        var main = PickleMachine(r, arena: arena) { pid, at in
            let s = try TorchCheckpoint.storageRef(pid, file: file, at: at)
            try table.add(s, file: file, at: at)
            return .storage(s)
        }
        let root = try main.run()
        r.position = main.position

        m = PickleMachine(r, arena: arena, persistentLoad: noPersistent)
        let keysValue = try m.run()
        r.position = m.position
        guard case let .list(keyList) = keysValue else {
            throw r.malformed("legacy PyTorch storage keys", "expected a list, found \(keysValue.kind)", at: main.position)
        }

        var ranges: [String: Range<Int>] = [:]
        for item in keyList.items {
            guard case let .string(key) = item else { throw r.malformed("legacy PyTorch storage keys", "a key is a \(item.kind)") }
            guard let ref = table.refs[key] else { throw r.malformed("legacy PyTorch storage '\(key)'", "listed but never referenced") }
            let at = r.position
            let count = try r.u64("element count of storage '\(key)'")
            guard count == UInt64(ref.count) else {
                throw r.malformed("legacy PyTorch storage '\(key)'", "holds \(count) elements but the pickle declares \(ref.count)", at: at)
            }
            let n = try r.needDeclared(count &* UInt64(ref.dtype.byteSize), "storage '\(key)' (\(count) x \(ref.dtype.rawValue))")
            ranges[key] = try r.take(n, "storage '\(key)'")
        }

        let end = r.position
        return try TorchCheckpoint.tensors(root: root, operations: main.operations, file: file, fileSize: storage.count) { ref in
            guard let range = ranges[ref.key] else {
                throw WeightsError.malformed(file: file, offset: end, context: "legacy PyTorch file",
                                             reason: "storage '\(ref.key)' is referenced but not stored")
            }
            return storage.view(range.lowerBound, range.count)
        }
    }
}
