import Foundation

extension WordVectorTable {
    /// Reads a spaCy `vocab/` directory: `vectors` (a .npy float32 matrix), `key2row` (a msgpack
    /// map from the 64-bit key of a word to its row) and, when `loadWords` is true,
    /// `strings.json` (the vocabulary's strings, used to name rows). A word's key is
    /// `MurmurHash64A(utf8, seed: 1)` (see `spacyKey`), so lookups need no strings at all.
    public static func loadSpacy(vocabDirectory dir: URL, loadWords: Bool = true) throws -> WordVectorTable {
        let cfg = dir.appendingPathComponent("vectors.cfg")
        if let data = FileManager.default.contents(atPath: cfg.path),
           let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let mode = json["mode"] as? String, mode != "default" {
            throw WeightsError.unsupported(file: cfg.path, context: "spaCy vectors", feature: "mode '\(mode)'")
        }
        let vectorsURL = dir.appendingPathComponent("vectors")
        let vectorsStorage = try ByteStorage.map(vectorsURL)
        var budget = CopyBudget(file: vectorsURL.path, fileSize: vectorsStorage.count)
        let tensor = try NpyFormat.read(vectorsStorage, range: 0..<vectorsStorage.count, name: "vectors", file: vectorsURL.path, budget: &budget)
        guard tensor.shape.count == 2, tensor.shape[1] > 0 else {
            throw WeightsError.invalidTensor(file: vectorsURL.path, tensor: "vectors", reason: "shape \(tensor.shape) is not [rows, dimension]")
        }
        let rows = tensor.shape[0], dimension = tensor.shape[1]
        let matrix = try tensor.floats()

        let keyURL = dir.appendingPathComponent("key2row")
        let entries = try MessagePackIntMap.read(try ByteStorage.map(keyURL), file: keyURL.path)
        var keyRows: [UInt64: Int] = [:]
        keyRows.reserveCapacity(entries.count)
        for e in entries {
            guard e.value >= 0, e.value < rows else {
                throw WeightsError.malformed(file: keyURL.path, offset: 0, context: "key2row",
                                             reason: "key \(e.key) maps to row \(e.value) of a \(rows)-row table")
            }
            keyRows[e.key] = e.value
        }

        var words: [String?]?
        if loadWords {
            let stringsURL = dir.appendingPathComponent("strings.json")
            let strings: [String]
            do {
                let storage = try ByteStorage.map(stringsURL)
                strings = try JSONDecoder().decode([String].self, from: Data(storage.buffer))
            } catch let e as WeightsError {
                throw e
            } catch {
                throw WeightsError.malformed(file: stringsURL.path, offset: 0, context: "strings.json", reason: "not a JSON list of strings")
            }
            var known: [UInt64: String] = [:]
            known.reserveCapacity(strings.count)
            for s in strings { known[spacyKey(s)] = s }
            // A row's own word is the first key in key2row order that maps to it: spaCy writes the
            // table's words first, then the words pruned onto their nearest row ("Lors" before ".Lors").
            var names = [String?](repeating: nil, count: rows)
            var named = [Bool](repeating: false, count: rows)
            for e in entries where !named[e.value] {
                named[e.value] = true
                names[e.value] = known[e.key]
            }
            words = names
        }
        return WordVectorTable(dimension: dimension, matrix: matrix, words: words, lookup: .spacyKeys(keyRows))
    }
}
