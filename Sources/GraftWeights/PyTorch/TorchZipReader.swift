import Foundation

/// Reads the zip-based PyTorch format (torch >= 1.6): `<archive>/data.pkl` holds the object with
/// storages as persistent ids, `<archive>/data/<key>` each storage's raw bytes (stored, not
/// compressed). Storages are zero-copy views of the mapped file.
enum TorchZipReader {
    /// The `<archive>/` prefix when `zip` is a PyTorch archive: an entry `<dir>/data.pkl` one level deep.
    static func archivePrefix(_ zip: ZipArchive) -> String? {
        zip.entries.lazy.map(\.name).first { name in
            name.hasSuffix("/data.pkl") && name.dropLast("/data.pkl".count).allSatisfy { $0 != "/" }
        }.map { String($0.dropLast("data.pkl".count)) }
    }

    static func read(_ storage: ByteStorage, zip: ZipArchive, prefix: String, file: String) throws -> (tensors: [StoredTensor], metadata: [String: String]) {
        if let e = zip[prefix + "byteorder"] {
            let range = try zip.storedRange(e)
            let order = String(decoding: storage.buffer[range], as: UTF8.self)
            guard order == "little" else {
                throw WeightsError.unsupported(file: file, context: "PyTorch archive", feature: "byte order '\(order)'")
            }
        }
        guard let pickleEntry = zip[prefix + "data.pkl"] else {
            throw WeightsError.malformed(file: file, offset: 0, context: "PyTorch archive", reason: "no \(prefix)data.pkl")
        }
        let reader = ByteReader(storage, file: file, range: try zip.storedRange(pickleEntry))
        let table = TorchCheckpoint.StorageTable()
        let arena = PickleArena()
        defer { arena.release() }
        var machine = PickleMachine(reader, arena: arena) { pid, at in
            let s = try TorchCheckpoint.storageRef(pid, file: file, at: at)
            try table.add(s, file: file, at: at)
            return .storage(s)
        }
        let root = try machine.run()

        var metadata: [String: String] = [:]
        if let v = zip[prefix + "version"], let range = try? zip.storedRange(v) {
            metadata["pytorch.archive_version"] = String(decoding: storage.buffer[range], as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var result = try TorchCheckpoint.tensors(root: root, operations: machine.operations, file: file, fileSize: storage.count) { ref in
            let name = prefix + "data/" + ref.key
            guard let entry = zip[name] else {
                throw WeightsError.malformed(file: file, offset: pickleEntry.dataOffset, context: "PyTorch archive",
                                             reason: "storage '\(ref.key)' has no entry \(name)")
            }
            let range = try zip.storedRange(entry)
            let needed = ref.count * ref.dtype.byteSize
            guard range.count == needed else {
                throw WeightsError.malformed(file: file, offset: entry.dataOffset, context: "zip entry '\(name)'",
                    reason: "holds \(range.count) bytes but storage '\(ref.key)' is \(ref.count) x \(ref.dtype.rawValue) = \(needed) bytes")
            }
            return storage.view(range.lowerBound, range.count)
        }
        result.metadata.merge(metadata) { a, _ in a }
        return result
    }
}
