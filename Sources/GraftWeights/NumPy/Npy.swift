import Foundation

/// Reading and writing single arrays in numpy's .npy format (v1-v3 headers; '<', '>' and '|'
/// byte orders; Fortran-order arrays are transposed into C order on read).
public enum Npy {
    /// Reads one .npy file; the tensor is named after the file without its extension.
    public static func read(_ url: URL) throws -> StoredTensor {
        let storage = try ByteStorage.map(url)
        var budget = CopyBudget(file: url.path, fileSize: storage.count)
        return try NpyFormat.read(storage, range: 0..<storage.count, name: url.deletingPathExtension().lastPathComponent,
                                  file: url.path, budget: &budget)
    }

    /// The .npy bytes of `tensor` (C order, little-endian; bf16 has no numpy type and is refused).
    public static func encode(_ tensor: StoredTensor) throws -> Data {
        var data = Data(try NpyFormat.encode(tensor))
        tensor.bytes.withUnsafeBytes { data.append(contentsOf: $0) }
        return data
    }

    /// Writes `tensor` to `url` atomically.
    public static func write(_ tensor: StoredTensor, to url: URL) throws {
        let header = try NpyFormat.encode(tensor)
        try writeAtomically(to: url) { write in
            try header.withUnsafeBytes { try write($0) }
            try tensor.bytes.withUnsafeBytes { try write($0) }
        }
    }
}
