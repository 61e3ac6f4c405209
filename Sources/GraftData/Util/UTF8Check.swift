/// Where a byte sequence stops being valid UTF-8: CSV and JSONL readers
/// report the line instead of replacing the bytes with U+FFFD.
enum UTF8Check {
    /// Offset of the first byte of the first invalid sequence, or nil when all of `bytes` is valid.
    static func firstInvalidOffset(_ bytes: some Sequence<UInt8>) -> Int? {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }

    /// "invalid UTF-8 (byte 0xFF)" for the sequence starting at `offset`.
    static func reason(_ bytes: some Collection<UInt8>, at offset: Int) -> String {
        let byte = bytes.dropFirst(offset).first.map { String($0, radix: 16, uppercase: true) } ?? "?"
        return "invalid UTF-8 (byte 0x\(byte))"
    }
}
