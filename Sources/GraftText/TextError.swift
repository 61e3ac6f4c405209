/// What went wrong while loading a tokenizer or a word-vector table, or querying one. Each case
/// names the file, key, word or shape involved.
public enum TextError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A file could not be read at all.
    case unreadableFile(path: String, reason: String)
    /// A file was read but its content is not what the format requires.
    case malformedFile(path: String, reason: String)
    /// The vocabulary lacks a token the tokenizer needs (e.g. `[UNK]`, `[CLS]`).
    case missingToken(token: String, vocabulary: String)
    /// A word has no vector in the table. Never answered with a zero vector.
    case outOfVocabulary(word: String)
    /// Vectors, words or a query do not have the shapes the operation needs.
    case shapeMismatch(what: String, expected: [Int], got: [Int])
    /// An argument is out of range.
    case invalidArgument(name: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason): return "\(path): cannot read (\(reason))"
        case let .malformedFile(path, reason): return "\(path): \(reason)"
        case let .missingToken(token, vocabulary): return "\(vocabulary): vocabulary has no \(token) token"
        case let .outOfVocabulary(word): return "'\(word)' is not in the vocabulary of the word vectors"
        case let .shapeMismatch(what, expected, got): return "\(what): expected shape \(expected), got \(got)"
        case let .invalidArgument(name, reason): return "\(name): \(reason)"
        }
    }
}
