/// BERT's character classes, as Hugging Face's fast tokenizer defines them (tokenizers
/// `normalizers/bert.rs`, `pre_tokenizers/bert.rs`).
///
/// The tokenizers library takes general categories from the `unicode_categories` crate, whose
/// tables are Unicode 8.0: a character assigned later (or unassigned) has no category there, so
/// it is neither control, punctuation nor a nonspacing mark - it stays in the word as a letter
/// would. Graft reproduces this with each scalar's Unicode age, plus the few characters whose
/// category changed since 8.0.
enum BertCharacters {
    /// Whether Hugging Face's category tables (Unicode 8.0) know `scalar`.
    static func hasCategoryInHuggingFace(_ scalar: Unicode.Scalar) -> Bool {
        guard let age = scalar.properties.age else { return false }
        return age.major < 8 || (age.major == 8 && age.minor == 0)
    }

    /// The general category Hugging Face sees: Unicode 8.0's, nil for characters it lacks.
    static func huggingFaceCategory(_ scalar: Unicode.Scalar) -> Unicode.GeneralCategory? {
        guard hasCategoryInHuggingFace(scalar) else { return nil }
        if let old = categoryChangedSince8[scalar.value] { return old }
        return scalar.properties.generalCategory
    }

    /// Characters of Unicode 8.0 whose general category changed later: their 8.0 category
    /// (found by comparing every code point with the tokenizers library).
    static let categoryChangedSince8: [UInt32: Unicode.GeneralCategory] = [
        0x166D: .otherPunctuation,   // CANADIAN SYLLABICS CHI SIGN, So since 12.0
        0x1734: .nonspacingMark,     // HANUNOO SIGN PAMUDPOD, Mc since 14.0
        0x1885: .otherLetter,        // MONGOLIAN LETTER ALI GALI BALUDA, Mn since 9.0
        0x1886: .otherLetter,        // MONGOLIAN LETTER ALI GALI THREE BALUDA, Mn since 9.0
        0xA9BD: .spacingMark,        // JAVANESE CONSONANT SIGN KERET, Mn since 12.0
        0x111C9: .otherPunctuation,  // SHARADA SANDHI MARK, Mn since 11.0
        0x1171E: .nonspacingMark,    // AHOM CONSONANT SIGN MEDIAL RA, Mc since 14.0
    ]

    /// Control characters are removed by text cleaning. Tab, newline and carriage return count
    /// as whitespace instead; Cc, Cf, Co and Cs are control (tokenizers' `is_other`; unassigned
    /// code points are kept).
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: return false
        default: break
        }
        switch huggingFaceCategory(scalar) {
        case .control, .format, .privateUse, .surrogate: return true
        default: return false
        }
    }

    /// A nonspacing mark (Mn), dropped when accents are stripped.
    static func isNonspacingMark(_ scalar: Unicode.Scalar) -> Bool {
        huggingFaceCategory(scalar) == .nonspacingMark
    }

    /// Unicode White_Space (Rust's `char::is_whitespace`), which tab, newline and CR are part of.
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace
    }

    /// All non-letter, non-digit ASCII (33-47, 58-64, 91-96, 123-126) plus the Unicode P* categories.
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) {
            return true
        }
        switch huggingFaceCategory(scalar) {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// The CJK Unified Ideograph blocks BERT isolates as single tokens (not Hangul, Hiragana or
    /// Katakana). As in tokenizers' `is_chinese_char`, the fifth range starts at U+2B920
    /// (transformers' Python tokenizer says U+2B820).
    static func isChinese(_ v: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v)
            || (0x2A700...0x2B73F).contains(v) || (0x2B740...0x2B81F).contains(v) || (0x2B920...0x2CEAF).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
    }
}
