import Foundation

/// Writes safetensors: tensors in the given order, data laid out back to back, the JSON header
/// padded with spaces to a multiple of 8 bytes so the data section starts aligned.
enum SafetensorsWriter {
    static func header(_ tensors: [StoredTensor], metadata: [String: String]) -> [UInt8] {
        var json = "{"
        var first = true
        func separator() { if !first { json += "," }; first = false }
        if !metadata.isEmpty {
            separator()
            json += "\"__metadata__\":{"
            json += metadata.sorted { $0.key < $1.key }
                .map { jsonString($0.key) + ":" + jsonString($0.value) }.joined(separator: ",")
            json += "}"
        }
        var offset = 0
        for t in tensors {
            separator()
            let end = offset + t.bytes.count
            json += jsonString(t.name) + ":{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":["
                + t.shape.map(String.init).joined(separator: ",") + "],\"data_offsets\":[\(offset),\(end)]}"
            offset = end
        }
        json += "}"
        var bytes = Array(json.utf8)
        while bytes.count % 8 != 0 { bytes.append(UInt8(ascii: " ")) }
        return bytes
    }

    static func write(_ tensors: [StoredTensor], metadata: [String: String], to url: URL) throws {
        if let t = tensors.first(where: { $0.name == "__metadata__" }) {
            throw WeightsError.cannotWrite(file: url.path, reason: "a tensor may not be named '\(t.name)'")
        }
        let header = header(tensors, metadata: metadata)
        try writeAtomically(to: url) { write in
            var length = UInt64(header.count).littleEndian
            try withUnsafeBytes(of: &length) { try write($0) }
            try header.withUnsafeBytes { try write($0) }
            for t in tensors { try t.bytes.withUnsafeBytes { try write($0) } }
        }
    }
}

/// A JSON string literal for `s` (quotes, backslashes and control characters escaped).
func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 {
                out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16)
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    return out + "\""
}
