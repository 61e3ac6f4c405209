/// BERT's character classes, as Hugging Face defines them (tokenizers `normalizers/bert.rs` and
/// `pre_tokenizers/bert.rs`; transformers `_is_control`, `_is_whitespace`, `_is_punctuation`).
enum BertCharacters {
    /// Control characters are removed by text cleaning. Tab, newline and carriage return count
    /// as whitespace instead; everything in the Unicode "C" categories (Cc, Cf, Cn, Co, Cs) is control.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: return false
        default: break
        }
        switch scalar.properties.generalCategory {
        case .control, .format, .unassigned, .privateUse, .surrogate: return true
        default: return false
        }
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
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// The CJK Unified Ideograph blocks BERT isolates as single tokens (not Hangul, Hiragana or Katakana).
    static func isChinese(_ v: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v)
            || (0x2A700...0x2B73F).contains(v) || (0x2B740...0x2B81F).contains(v) || (0x2B820...0x2CEAF).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
    }
}
