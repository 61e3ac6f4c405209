import Foundation

/// Per-scalar form of Hugging Face's `BertNormalizer` (clean text, isolate CJK, NFD + drop Mn,
/// lowercase) fused with the punctuation test of `BertPreTokenizer`.
///
/// BERT normalisation is a function of each scalar on its own, except for NFD's canonical
/// reordering of combining marks; reordering only moves marks, and the nonspacing ones are dropped,
/// so applying it scalar by scalar gives the same words (up to the order of rare spacing marks that
/// carry a combining class, e.g. musical symbols U+1D165). The answers for U+0000..<U+3400 (Latin,
/// Greek, Cyrillic, Arabic, Hebrew, Indic, Thai, ...) are precomputed once; Hangul syllables are
/// decomposed arithmetically; the rest (emoji, fullwidth forms, ...) are computed when met.
struct BertNormalizer: Sendable {
    /// What a scalar does to the word being built.
    enum Kind: UInt32 {
        /// NUL, U+FFFD and control/format/unassigned characters vanish without splitting the word.
        case removed = 0
        /// Ends the current word.
        case whitespace = 1
        /// A CJK ideograph: a word of its own.
        case isolated = 2
        /// Normalised scalars that join the word (punctuation among them splits it).
        case text = 3
    }

    /// Bit set on an output scalar that is punctuation (a word of its own).
    static let punctuationFlag: UInt32 = 1 << 31
    static let tableEnd: UInt32 = 0x3400

    let lowercase: Bool
    let stripAccents: Bool
    let handleChineseCharacters: Bool
    /// For each scalar below `tableEnd`: kind (bits 30-31), output count (bits 24-29), offset (bits 0-23).
    let entries: [UInt32]
    /// Output scalars, each possibly carrying `punctuationFlag`.
    let outputs: [UInt32]

    init(lowercase: Bool, stripAccents: Bool, handleChineseCharacters: Bool) {
        self.lowercase = lowercase
        self.stripAccents = stripAccents
        self.handleChineseCharacters = handleChineseCharacters
        var entries = [UInt32](repeating: 0, count: Int(Self.tableEnd))
        var outputs: [UInt32] = []
        outputs.reserveCapacity(Int(Self.tableEnd) + 1024)
        var scratch: [UInt32] = []
        for v in 0..<Self.tableEnd {
            scratch.removeAll(keepingCapacity: true)
            let kind = Self.normalize(v, lowercase: lowercase, stripAccents: stripAccents,
                                      handleChinese: handleChineseCharacters, into: &scratch)
            entries[Int(v)] = kind.rawValue << 30 | UInt32(scratch.count) << 24 | UInt32(outputs.count)
            outputs.append(contentsOf: scratch)
        }
        self.entries = entries
        self.outputs = outputs
    }

    /// Shared instances for the two settings BERT checkpoints use (built on first use).
    static let uncased = BertNormalizer(lowercase: true, stripAccents: true, handleChineseCharacters: true)
    static let cased = BertNormalizer(lowercase: false, stripAccents: false, handleChineseCharacters: true)

    static func make(lowercase: Bool, stripAccents: Bool, handleChineseCharacters: Bool) -> BertNormalizer {
        if handleChineseCharacters && lowercase == stripAccents { return lowercase ? uncased : cased }
        return BertNormalizer(lowercase: lowercase, stripAccents: stripAccents,
                              handleChineseCharacters: handleChineseCharacters)
    }

    /// The normalised form of one scalar, appended to `out` (with punctuation flags), and its kind.
    /// Used to build the table and for scalars above it.
    static func normalize(_ v: UInt32, lowercase: Bool, stripAccents: Bool, handleChinese: Bool,
                          into out: inout [UInt32]) -> Kind {
        guard let scalar = Unicode.Scalar(v) else { return .removed }
        if handleChinese && BertCharacters.isChinese(v) && !(0xF900...0xFAFF).contains(v) && !(0x2F800...0x2FA1F).contains(v)
            && BertCharacters.hasCategoryInHuggingFace(scalar) {
            // Fast path for Chinese text: a unified ideograph has no decomposition and no case.
            out.append(v)
            return .isolated
        }
        if v == 0 || v == 0xFFFD || BertCharacters.isControl(scalar) { return .removed }
        if BertCharacters.isWhitespace(scalar) { return .whitespace }
        let kind: Kind = handleChinese && BertCharacters.isChinese(v) ? .isolated : .text
        if v < 0x80 {
            // ASCII: NFD is the identity; lowercase is a shift.
            let lowered = lowercase && (0x41...0x5A).contains(v) ? v + 0x20 : v
            out.append(flagged(lowered))
            return kind
        }
        let decomposed: [Unicode.Scalar]
        if stripAccents {
            decomposed = canonicalDecomposition(scalar).filter { !BertCharacters.isNonspacingMark($0) }
        } else {
            decomposed = [scalar]
        }
        for s in decomposed {
            if lowercase {
                for l in s.properties.lowercaseMapping.unicodeScalars { out.append(flagged(l.value)) }
            } else {
                out.append(flagged(s.value))
            }
        }
        return kind
    }

    private static func flagged(_ v: UInt32) -> UInt32 {
        guard let s = Unicode.Scalar(v) else { return v }
        return BertCharacters.isPunctuation(s) ? v | punctuationFlag : v
    }

    /// Full canonical decomposition (NFD) of one scalar. Characters newer than Hugging Face's
    /// Unicode 8.0 tables do not decompose there (e.g. U+11938, Unicode 13), so they stay whole.
    static func canonicalDecomposition(_ scalar: Unicode.Scalar) -> [Unicode.Scalar] {
        guard BertCharacters.hasCategoryInHuggingFace(scalar) else { return [scalar] }
        let v = scalar.value
        if (0xAC00...0xD7A3).contains(v) {
            // Hangul syllable: arithmetic decomposition into leading/vowel/trailing jamo (Unicode 3.12).
            let s = v - 0xAC00
            var parts = [0x1100 + s / 588, 0x1161 + (s % 588) / 28]
            if s % 28 != 0 { parts.append(0x11A7 + s % 28) }
            return parts.compactMap(Unicode.Scalar.init)
        }
        return Array(String(Character(scalar)).decomposedStringWithCanonicalMapping.unicodeScalars)
    }
}
