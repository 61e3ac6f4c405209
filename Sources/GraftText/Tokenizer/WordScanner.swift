/// Receives the words of a text, normalised, as `scanWords` finds them.
protocol WordSink {
    /// True once the sink wants no more words (truncation reached).
    var isFull: Bool { get }
    /// A normalised word: its UTF-8 bytes, length in scalars and FNV-1a hash.
    mutating func word(_ bytes: UnsafeBufferPointer<UInt8>, scalarCount: Int, hash: UInt32)
    /// A special token written verbatim in the text (`[MASK]`, ...).
    mutating func specialToken(_ id: Int32)
}

/// Hugging Face's `BertNormalizer` + `BertPreTokenizer` in one pass over the text.
extension WordPieceTokenizer {
    /// The normalised words of `text` as the fast tokenizer's pre-tokenizer gives them
    /// (`pre_tokenize_str(normalize_str(text))`), special tokens kept whole: what WordPiece sees.
    public func preTokenize(_ text: String) -> [String] {
        var sink = StringSink(tokens: tokens)
        scanWords(text, into: &sink)
        return sink.words
    }

    private struct StringSink: WordSink {
        let tokens: [String]
        var words: [String] = []
        init(tokens: [String]) { self.tokens = tokens }
        var isFull: Bool { false }
        mutating func word(_ bytes: UnsafeBufferPointer<UInt8>, scalarCount: Int, hash: UInt32) {
            words.append(String(decoding: bytes, as: UTF8.self))
        }
        mutating func specialToken(_ id: Int32) { words.append(tokens[Int(id)]) }
    }

    func scanWords<Sink: WordSink>(_ text: String, into sink: inout Sink) {
        var text = text
        text.withUTF8 { bytes in
            normalizer.entries.withUnsafeBufferPointer { entries in
                normalizer.outputs.withUnsafeBufferPointer { outputs in
                    scanWords(bytes, entries: entries, outputs: outputs, into: &sink)
                }
            }
        }
    }

    /// One pass over the UTF-8 bytes: normalise each scalar (table lookup), collect word bytes,
    /// and hand each word to `sink` as soon as whitespace or punctuation ends it.
    private func scanWords<Sink: WordSink>(_ bytes: UnsafeBufferPointer<UInt8>, entries: UnsafeBufferPointer<UInt32>,
                                           outputs: UnsafeBufferPointer<UInt32>, into sink: inout Sink) {
        var word: [UInt8] = []
        word.reserveCapacity(64)
        var wordScalars = 0
        var wordHash = WholeWordTable.fnvBasis
        var scratch: [UInt32] = []
        let n = bytes.count
        var i = 0

        func flush() {
            guard !word.isEmpty else { return }
            word.withUnsafeBufferPointer { sink.word($0, scalarCount: wordScalars, hash: wordHash) }
            word.removeAll(keepingCapacity: true)
            wordScalars = 0
            wordHash = WholeWordTable.fnvBasis
        }
        func emitAlone(_ v: UInt32) {
            flush()
            var single: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
            let length = withUnsafeMutableBytes(of: &single) { Self.encodeUTF8(v, into: $0.baseAddress!) }
            withUnsafeBytes(of: &single) { raw in
                let bytes = UnsafeBufferPointer(start: raw.baseAddress!.assumingMemoryBound(to: UInt8.self), count: length)
                sink.word(bytes, scalarCount: 1, hash: bytes.reduce(WholeWordTable.fnvBasis, WholeWordTable.fnv))
            }
        }
        func handle(_ kind: UInt32, _ normalized: UnsafeBufferPointer<UInt32>) {
            switch kind {
            case BertNormalizer.Kind.text.rawValue:
                for o in normalized {
                    if o & BertNormalizer.punctuationFlag != 0 {
                        emitAlone(o & ~BertNormalizer.punctuationFlag)
                    } else if o < 0x80 {
                        let byte = UInt8(truncatingIfNeeded: o)
                        word.append(byte)
                        wordHash = WholeWordTable.fnv(wordHash, byte)
                        wordScalars += 1
                    } else {
                        var buffer: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
                        let length = withUnsafeMutableBytes(of: &buffer) { Self.encodeUTF8(o, into: $0.baseAddress!) }
                        withUnsafeBytes(of: &buffer) { raw in
                            for byte in raw.prefix(length) {
                                word.append(byte)
                                wordHash = WholeWordTable.fnv(wordHash, byte)
                            }
                        }
                        wordScalars += 1
                    }
                }
            case BertNormalizer.Kind.whitespace.rawValue:
                flush()
            case BertNormalizer.Kind.isolated.rawValue:
                // A CJK ideograph is its own word; its NFD form is one ideograph (never punctuation).
                flush()
                for o in normalized { emitAlone(o & ~BertNormalizer.punctuationFlag) }
            default:
                break   // removed: control characters vanish without splitting the word
            }
        }

        while i < n {
            if sink.isFull { return }
            let b0 = bytes[i]
            if b0 == UInt8(ascii: "["), let special = matchSpecialToken(bytes, at: i) {
                flush()
                sink.specialToken(special.id)
                i += special.length
                continue
            }
            // Decode one scalar (Swift strings hold valid UTF-8).
            var v: UInt32
            if b0 < 0x80 {
                v = UInt32(b0); i += 1
            } else if b0 < 0xE0 {
                v = UInt32(b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F); i += 2
            } else if b0 < 0xF0 {
                v = UInt32(b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F); i += 3
            } else {
                v = UInt32(b0 & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12
                    | UInt32(bytes[i + 2] & 0x3F) << 6 | UInt32(bytes[i + 3] & 0x3F); i += 4
            }
            if v < BertNormalizer.tableEnd {
                let entry = entries[Int(v)]
                let offset = Int(entry & 0xFF_FFFF)
                let count = Int((entry >> 24) & 0x3F)
                handle(entry >> 30, UnsafeBufferPointer(rebasing: outputs[offset..<(offset + count)]))
            } else {
                scratch.removeAll(keepingCapacity: true)
                let kind = BertNormalizer.normalize(v, lowercase: normalizer.lowercase,
                                                    stripAccents: normalizer.stripAccents,
                                                    handleChinese: normalizer.handleChineseCharacters,
                                                    into: &scratch)
                scratch.withUnsafeBufferPointer { handle(kind.rawValue, $0) }
            }
        }
        if !sink.isFull { flush() }
    }

    /// A special token spelled at `position`, longest first.
    private func matchSpecialToken(_ bytes: UnsafeBufferPointer<UInt8>, at position: Int) -> (id: Int32, length: Int)? {
        for special in specialTokens where position + special.bytes.count <= bytes.count {
            var matches = true
            for (k, b) in special.bytes.enumerated() where bytes[position + k] != b {
                matches = false
                break
            }
            if matches { return (special.id, special.bytes.count) }
        }
        return nil
    }
}
