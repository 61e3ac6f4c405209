import Foundation

/// The settings of a BERT tokenizer that a Hugging Face model folder states: casing and accents
/// from `tokenizer_config.json`, the maximum length from there (`model_max_length`) or, for
/// sentence-transformers models, from `sentence_bert_config.json` (`max_seq_length`, which wins).
public struct TokenizerConfiguration: Sendable, Equatable {
    public var lowercase: Bool = true
    /// nil: strip accents exactly when lowercasing (BERT's rule).
    public var stripAccents: Bool? = nil
    public var tokenizeChineseCharacters: Bool = true
    /// Default truncation length, special tokens included.
    public var maxLength: Int = 512

    public init(lowercase: Bool = true, stripAccents: Bool? = nil, tokenizeChineseCharacters: Bool = true,
                maxLength: Int = 512) {
        self.lowercase = lowercase
        self.stripAccents = stripAccents
        self.tokenizeChineseCharacters = tokenizeChineseCharacters
        self.maxLength = maxLength
    }

    /// Reads the configuration files present in `directory`; missing files keep the defaults.
    public init(modelDirectory directory: URL) throws {
        self.init()
        let tokenizerConfig = directory.appendingPathComponent("tokenizer_config.json")
        if let json = try Self.readObject(tokenizerConfig) {
            if let v = json["do_lower_case"] as? Bool { lowercase = v }
            if let v = json["strip_accents"] as? Bool { stripAccents = v }
            if let v = json["tokenize_chinese_chars"] as? Bool { tokenizeChineseCharacters = v }
            // Some configs store "no limit" as 1e30: only a plausible length counts.
            if let v = Self.number(json["model_max_length"]), v >= 2, v <= 1_000_000 { maxLength = Int(v) }
        }
        let sentenceConfig = directory.appendingPathComponent("sentence_bert_config.json")
        if let json = try Self.readObject(sentenceConfig),
           let v = Self.number(json["max_seq_length"]), v >= 2, v <= 1_000_000 {
            maxLength = Int(v)
        }
    }

    /// JSON numbers arrive as Int, Double or NSNumber depending on the platform's Foundation.
    private static func number(_ value: Any?) -> Double? {
        if let v = value as? Int { return Double(v) }
        if let v = value as? Double { return v }
        if let v = value as? NSNumber { return v.doubleValue }
        return nil
    }

    private static func readObject(_ url: URL) throws -> [String: Any]? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TextError.unreadableFile(path: url.path, reason: "\(error)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TextError.malformedFile(path: url.path, reason: "not a JSON object")
        }
        return object
    }
}
