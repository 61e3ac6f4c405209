import Foundation

/// Reads safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian
/// header length, a JSON header, then one byte buffer that the tensors cover exactly.
/// Tensors are zero-copy views of the mapped file.
enum SafetensorsReader {
    /// The reference implementation's limit on header size.
    static let maxHeaderLength: UInt64 = 100_000_000

    private struct Entry: Decodable {
        let dtype: String
        let shape: [Int]
        let data_offsets: [Int]
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// The header's entries, keyed by name, plus `__metadata__`.
    private struct Header: Decodable {
        var entries: [(String, Entry)] = []
        var metadata: [String: String] = [:]

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            for key in c.allKeys {
                if key.stringValue == "__metadata__" {
                    metadata = try c.decodeIfPresent([String: String].self, forKey: key) ?? [:]
                } else {
                    entries.append((key.stringValue, try c.decode(Entry.self, forKey: key)))
                }
            }
        }
    }

    static func looksLike(_ storage: ByteStorage) -> Bool {
        guard storage.count >= 10 else { return false }
        let r = ByteReader(storage, file: "")
        // Header length, then the JSON object; whitespace before '{' is not allowed by the spec.
        return r.byte(at: 8) == UInt8(ascii: "{") && r.byte(at: 6) == 0 && r.byte(at: 7) == 0
    }

    static func read(_ storage: ByteStorage, file: String) throws -> (tensors: [StoredTensor], metadata: [String: String]) {
        var r = ByteReader(storage, file: file)
        let declared = try r.u64("safetensors header length")
        guard declared <= maxHeaderLength else {
            throw r.malformed("safetensors header length", "\(declared) bytes exceeds the 100 MB limit", at: 0)
        }
        let headerLength = try r.needDeclared(declared, "safetensors header length")
        guard headerLength >= 2 else { throw r.malformed("safetensors header length", "\(headerLength) bytes is too short", at: 0) }
        let headerRange = try r.take(headerLength, "safetensors header")
        guard r.byte(at: 8) == UInt8(ascii: "{") else { throw r.malformed("safetensors header", "does not start with '{'", at: 8) }

        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(r.bytes(headerRange)))
        } catch let e as DecodingError {
            throw r.malformed("safetensors header", describe(e), at: 8)
        } catch {
            throw r.malformed("safetensors header", "\(error)", at: 8)
        }
        // The spec forbids two tensors with one name; JSONDecoder would keep one of them silently.
        if let name = HeaderKeyScan.firstDuplicate(HeaderKeyScan.topLevelKeys(r.bytes(headerRange))) {
            throw WeightsError.duplicateName(file: file, name: name)
        }

        let dataStart = 8 + headerLength
        let dataLength = storage.count - dataStart
        struct Placed { let name: String; let dtype: DType; let shape: [Int]; let begin: Int; let end: Int }
        var placed: [Placed] = []
        placed.reserveCapacity(header.entries.count)
        for (name, e) in header.entries {
            guard let dtype = DType(rawValue: e.dtype) else {
                throw WeightsError.unsupported(file: file, context: "tensor '\(name)'", feature: "dtype \(e.dtype)")
            }
            guard e.data_offsets.count == 2, e.data_offsets[0] >= 0, e.data_offsets[0] <= e.data_offsets[1] else {
                throw WeightsError.invalidTensor(file: file, tensor: name, reason: "data_offsets \(e.data_offsets) are not [begin, end]")
            }
            let begin = e.data_offsets[0], end = e.data_offsets[1]
            guard end <= dataLength else {
                throw WeightsError.invalidTensor(file: file, tensor: name,
                    reason: "data_offsets \(e.data_offsets) reach past the \(dataLength)-byte data section")
            }
            guard let needed = byteCount(e.shape, dtype) else {
                throw WeightsError.invalidTensor(file: file, tensor: name, reason: "shape \(e.shape) is negative or overflows")
            }
            guard needed == end - begin else {
                throw WeightsError.invalidTensor(file: file, tensor: name,
                    reason: "\(dtype.rawValue) \(e.shape) needs \(needed) bytes but data_offsets \(e.data_offsets) span \(end - begin)")
            }
            placed.append(Placed(name: name, dtype: dtype, shape: e.shape, begin: begin, end: end))
        }
        placed.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }

        // The spec: the buffer is entirely indexed, with no holes and no overlaps.
        var covered = 0
        var tensors: [StoredTensor] = []
        tensors.reserveCapacity(placed.count)
        for p in placed {
            guard p.begin == covered else {
                throw WeightsError.invalidTensor(file: file, tensor: p.name,
                    reason: p.begin < covered ? "overlaps the previous tensor (begins at \(p.begin), previous ends at \(covered))"
                                              : "leaves a gap (begins at \(p.begin), previous ends at \(covered))")
            }
            covered = p.end
            tensors.append(try StoredTensor(name: p.name, dtype: p.dtype, shape: p.shape,
                                            bytes: storage.view(dataStart + p.begin, p.end - p.begin), file: file))
        }
        guard covered == dataLength else {
            throw r.malformed("safetensors data", "tensors cover \(covered) of \(dataLength) bytes", at: dataStart + covered)
        }
        return (tensors, header.metadata)
    }

    private static func describe(_ e: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map(\.stringValue).joined(separator: ".")
            return (p.isEmpty ? "" : "at '\(p)': ") + c.debugDescription
        }
        switch e {
        case let .typeMismatch(_, c), let .valueNotFound(_, c), let .keyNotFound(_, c), let .dataCorrupted(c): return path(c)
        @unknown default: return "\(e)"
        }
    }
}
