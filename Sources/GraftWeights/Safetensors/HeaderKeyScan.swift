import Foundation

/// The keys of a JSON object's top level, in order, duplicates kept.
///
/// Foundation's JSONDecoder keeps one of two equal keys silently; the
/// safetensors spec forbids duplicate tensor names, so the reader scans the
/// header itself to refuse them. Assumes the text already parsed as JSON.
enum HeaderKeyScan {
    static func topLevelKeys(_ bytes: some Collection<UInt8>) -> [String] {
        let b = Array(bytes)
        var keys: [String] = []
        var depth = 0, i = 0
        var expectKey = false
        while i < b.count {
            let c = b[i]
            switch c {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1; expectKey = depth == 1 && c == UInt8(ascii: "{")
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
            case UInt8(ascii: ","):
                expectKey = depth == 1
            case UInt8(ascii: "\""):
                let start = i
                i += 1
                while i < b.count && b[i] != UInt8(ascii: "\"") { i += b[i] == UInt8(ascii: "\\") ? 2 : 1 }
                if expectKey {
                    keys.append(decodeString(Array(b[start...min(i, b.count - 1)])))
                    expectKey = false
                }
            default:
                break
            }
            i += 1
        }
        return keys
    }

    /// A JSON string token (quotes included) as text, escapes resolved.
    private static func decodeString(_ token: [UInt8]) -> String {
        (try? JSONDecoder().decode(String.self, from: Data(token))) ?? String(decoding: token, as: UTF8.self)
    }

    /// The first key that occurs twice, if any.
    static func firstDuplicate(_ keys: [String]) -> String? {
        var seen = Set<String>()
        for k in keys where !seen.insert(k).inserted { return k }
        return nil
    }
}
