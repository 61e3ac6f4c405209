/// Reads .npz archives (`numpy.savez`): a zip of stored .npy entries, each becoming a tensor
/// named after its entry without `.npy`. `numpy.savez_compressed` archives (deflate) are refused
/// by name: GraftWeights depends on nothing but Foundation, which has no inflate on Linux.
enum NpzReader {
    static func read(_ storage: ByteStorage, zip: ZipArchive, file: String) throws -> [StoredTensor] {
        var budget = CopyBudget(file: file, fileSize: storage.count)
        var tensors: [StoredTensor] = []
        for entry in zip.entries {
            guard entry.name.hasSuffix(".npy") else {
                throw WeightsError.unsupported(file: file, context: "npz entry '\(entry.name)'", feature: "entries other than .npy")
            }
            let name = String(entry.name.dropLast(4))
            tensors.append(try NpyFormat.read(storage, range: try zip.storedRange(entry), name: name, file: file, budget: &budget))
        }
        return tensors
    }
}
