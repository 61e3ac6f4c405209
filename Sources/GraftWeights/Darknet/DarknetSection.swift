/// One `[type]` block of a Darknet `.cfg` as written: its options by key, each with its line.
///
/// Darknet's own parser (`parse_network_cfg`, src/parser.c) trusts the file; this one keeps every
/// line number so that a bad value is reported where it is.
struct DarknetSection {
    let type: String
    /// Line of the `[type]` header (1-based).
    let line: Int
    /// Index among the layers (the `[net]` section is -1), the number `[route]` refers to.
    let layerIndex: Int
    let file: String
    var options: [String: (value: String, line: Int)] = [:]

    var name: String { layerIndex < 0 ? "[\(type)]" : "[\(type)] (layer \(layerIndex))" }

    func invalid(_ line: Int, _ reason: String) -> DarknetConfigError {
        .invalid(file: file, section: name, line: line, reason: reason)
    }

    func unsupported(_ line: Int, _ feature: String) -> DarknetConfigError {
        .unsupported(file: file, section: name, line: line, feature: feature)
    }

    /// An integer option within `range`, or `defaultValue` when absent (required when nil).
    func int(_ key: String, default defaultValue: Int? = nil, in range: ClosedRange<Int>) throws -> Int {
        guard let (text, line) = options[key] else {
            guard let defaultValue else { throw invalid(self.line, "missing '\(key)'") }
            return defaultValue
        }
        guard let v = Int(text.trimmingSpaces) else { throw invalid(line, "'\(key)=\(text)' is not an integer") }
        guard range.contains(v) else { throw invalid(line, "'\(key)=\(v)' is outside \(range.lowerBound)...\(range.upperBound)") }
        return v
    }

    /// A finite number option, or `defaultValue` when absent.
    func float(_ key: String, default defaultValue: Float) throws -> Float {
        guard let (text, line) = options[key] else { return defaultValue }
        guard let v = Float(text.trimmingSpaces), v.isFinite else { throw invalid(line, "'\(key)=\(text)' is not a finite number") }
        return v
    }

    /// A comma-separated integer list (`layers = -1, 8`), each entry within `range`.
    func ints(_ key: String, in range: ClosedRange<Int>, maxCount: Int = 4096) throws -> (values: [Int], line: Int)? {
        guard let (text, line) = options[key] else { return nil }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingSpaces }
        guard parts.count <= maxCount else { throw invalid(line, "'\(key)' lists \(parts.count) values, at most \(maxCount)") }
        var out: [Int] = []
        for p in parts {
            guard let v = Int(p) else { throw invalid(line, "'\(key)' entry '\(p)' is not an integer") }
            guard range.contains(v) else { throw invalid(line, "'\(key)' entry \(v) is outside \(range.lowerBound)...\(range.upperBound)") }
            out.append(v)
        }
        return (out, line)
    }

    func string(_ key: String, default defaultValue: String) -> (value: String, line: Int) {
        options[key].map { ($0.value.trimmingSpaces, $0.line) } ?? (defaultValue, line)
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s.removeLast() }
        return String(s)
    }
}
