import Foundation

/// BERT's WordPiece tokenizer, token for token as Hugging Face's `BertTokenizer` (the fast,
/// tokenizers-backed one): clean text, isolate CJK ideographs, strip accents and lowercase
/// (uncased models), split on whitespace and punctuation, then greedy longest-match-first
/// subwords with `##`; `[UNK]` for words over 100 characters or with no split. `[CLS]`, `[SEP]`,
/// `[PAD]`, `[UNK]` and `[MASK]` written in the text are kept as those tokens.
///
/// ```swift
/// let tokenizer = try WordPieceTokenizer(modelDirectory: miniLMFolder)
/// let batch = tokenizer.encodeBatch(["A man eats.", "Un homme mange."])   // padded to the longest
/// ```
public struct WordPieceTokenizer: Sendable {
    /// Words longer than this (in Unicode scalars, after normalisation) become `[UNK]`.
    public static let maxInputCharactersPerWord = 100
    /// Special tokens recognised verbatim in input text, as Hugging Face's added tokens are.
    public static let specialTokenNames = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    /// Below this much UTF-8 a batch is cheaper to tokenize on one thread (about 10 MB/s per core:
    /// 64 KB is ~5 ms of work, far above the cost of waking workers).
    public static let parallelThresholdBytes = 64 * 1024

    public let configuration: TokenizerConfiguration
    public let clsID: Int32
    public let sepID: Int32
    public let padID: Int32
    public let unkID: Int32
    /// Token strings by id (the lines of `vocab.txt`).
    public let tokens: [String]

    private let trie: VocabularyTrie
    private let wholeWords: WholeWordTable
    private let continuationRoot: Int32
    let normalizer: BertNormalizer
    /// Special tokens present in the vocabulary, longest first (leftmost-longest matching).
    let specialTokens: [(bytes: [UInt8], id: Int32)]
    private let specialIDs: Set<Int32>

    /// Default truncation length (special tokens included).
    public var maxLength: Int { configuration.maxLength }
    public var vocabularySize: Int { tokens.count }

    /// Loads `vocab.txt` (one token per line, the line number is the id).
    public init(vocabulary: URL, lowercase: Bool = true, stripAccents: Bool? = nil,
                tokenizeChineseCharacters: Bool = true, maxLength: Int = 512) throws {
        try self.init(vocabulary: vocabulary,
                      configuration: TokenizerConfiguration(lowercase: lowercase, stripAccents: stripAccents,
                                                            tokenizeChineseCharacters: tokenizeChineseCharacters,
                                                            maxLength: maxLength))
    }

    /// Loads `vocab.txt` and the settings in `tokenizer_config.json` / `sentence_bert_config.json`
    /// of a Hugging Face model folder (for all-MiniLM-L6-v2: uncased, max length 256).
    public init(modelDirectory: URL) throws {
        try self.init(vocabulary: modelDirectory.appendingPathComponent("vocab.txt"),
                      configuration: TokenizerConfiguration(modelDirectory: modelDirectory))
    }

    public init(vocabulary url: URL, configuration: TokenizerConfiguration) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TextError.unreadableFile(path: url.path, reason: "\(error)")
        }
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
            line.last == UInt8(ascii: "\r") ? Array(line.dropLast()) : Array(line)
        }
        if lines.last?.isEmpty == true { lines.removeLast() }   // the final newline
        guard !lines.isEmpty else { throw TextError.malformedFile(path: url.path, reason: "empty vocabulary") }
        var tokens: [String] = []
        tokens.reserveCapacity(lines.count)
        for (i, line) in lines.enumerated() {
            guard let token = String(validating: line, as: UTF8.self) else {
                throw TextError.malformedFile(path: url.path, reason: "line \(i + 1) is not valid UTF-8")
            }
            tokens.append(token)
        }
        let trie = VocabularyTrie(tokens: lines)
        func id(_ name: String) -> Int32? {
            let node = trie.node(for: name.utf8)
            return node >= 0 && trie.tokenIDs[Int(node)] >= 0 ? trie.tokenIDs[Int(node)] : nil
        }
        func required(_ name: String) throws -> Int32 {
            guard let id = id(name) else { throw TextError.missingToken(token: name, vocabulary: url.path) }
            return id
        }
        self.configuration = configuration
        self.tokens = tokens
        self.unkID = try required("[UNK]")
        self.clsID = try required("[CLS]")
        self.sepID = try required("[SEP]")
        self.padID = try required("[PAD]")
        self.trie = trie
        self.wholeWords = WholeWordTable(tokens: lines)
        self.continuationRoot = trie.node(for: "##".utf8)
        self.normalizer = BertNormalizer.make(
            lowercase: configuration.lowercase,
            stripAccents: configuration.stripAccents ?? configuration.lowercase,
            handleChineseCharacters: configuration.tokenizeChineseCharacters)
        let specials = Self.specialTokenNames.compactMap { name in id(name).map { (bytes: Array(name.utf8), id: $0) } }
        self.specialTokens = specials.sorted { $0.bytes.count > $1.bytes.count }
        self.specialIDs = Set(specials.map(\.id))
    }

    // MARK: - Public API

    /// The id of `token`, or nil when it is not in the vocabulary.
    public func id(of token: String) -> Int32? {
        let node = trie.node(for: token.utf8)
        guard node >= 0 else { return nil }
        let id = trie.tokenIDs[Int(node)]
        return id >= 0 ? id : nil
    }

    /// WordPiece tokens of `text`, without `[CLS]`/`[SEP]` (Hugging Face's `tokenize`).
    public func tokenize(_ text: String) -> [String] {
        contentIDs(text, limit: Int.max).map { tokens[Int($0)] }
    }

    /// `[CLS] tokens [SEP]`, keeping the first `maxLength - 2` tokens (default: `self.maxLength`).
    public func encode(_ text: String, maxLength: Int? = nil) -> [Int32] {
        let limit = Swift.max(2, maxLength ?? configuration.maxLength)
        var ids: [Int32] = [clsID]
        ids.append(contentsOf: contentIDs(text, limit: limit - 2))
        ids.append(sepID)
        return ids
    }

    /// Encodes each text (as `encode`) and pads to the longest in the batch. Batches of more than
    /// `parallelThresholdBytes` of text are tokenized on all cores.
    public func encodeBatch(_ texts: [String], maxLength: Int? = nil) -> TokenBatch {
        TokenBatch(padding: encodeEach(texts, maxLength: maxLength), padID: padID)
    }

    /// `encode` of every text, unpadded, in order; more than `parallelThresholdBytes` of text on all cores.
    public func encodeEach(_ texts: [String], maxLength: Int? = nil) -> [[Int32]] {
        let count = texts.count
        let bytes = texts.reduce(0) { $0 + $1.utf8.count }
        let workers = bytes < Self.parallelThresholdBytes ? 1 : Swift.min(ProcessInfo.processInfo.activeProcessorCount, count)
        guard workers > 1 else { return texts.map { encode($0, maxLength: maxLength) } }
        let results = UnsafeMutableBufferPointer<[Int32]>.allocate(capacity: count)
        _ = results.initialize(from: repeatElement([], count: count))
        defer { results.deinitialize().deallocate() }
        nonisolated(unsafe) let shared = results   // each worker writes its own disjoint range
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let range = (count * worker / workers)..<(count * (worker + 1) / workers)
            for i in range { shared[i] = encode(texts[i], maxLength: maxLength) }
        }
        return Array(results)
    }

    /// Text from ids, as Hugging Face's WordPiece decoder: pieces joined, `##` glued to the
    /// previous piece, spaces before `. ? ! ,` and a few contractions removed.
    public func decode(_ ids: [Int32], skipSpecialTokens: Bool = false) -> String {
        var out = ""
        var index = 0
        for id in ids {
            guard id >= 0, Int(id) < tokens.count else { continue }
            if skipSpecialTokens && specialIDs.contains(id) { continue }
            var piece = tokens[Int(id)]
            if index > 0 {
                if piece.hasPrefix("##") { piece.removeFirst(2) } else { piece = " " + piece }
            }
            out += Self.cleanUp(piece)
            index += 1
        }
        return out
    }

    /// tokenizers' `decoders::wordpiece::cleanup`, which it applies to each piece.
    private static func cleanUp(_ piece: String) -> String {
        guard piece.hasPrefix(" ") else { return piece }
        var s = piece
        for (dirty, clean) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                               (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")]
        where s.contains(dirty) {
            s = s.replacingOccurrences(of: dirty, with: clean)
        }
        return s
    }

    // MARK: - Encoding

    /// Token ids of `text` without special tokens, at most `limit` of them.
    func contentIDs(_ text: String, limit: Int) -> [Int32] {
        guard limit > 0 else { return [] }
        var sink = IDSink(tokenizer: self, limit: limit)
        sink.ids.reserveCapacity(Swift.min(limit, text.utf8.count / 4 + 8))
        scanWords(text, into: &sink)
        if sink.ids.count > limit { sink.ids.removeSubrange(limit...) }
        return sink.ids
    }

    /// Runs WordPiece on each word as the scanner finds it.
    private struct IDSink: WordSink {
        let tokenizer: WordPieceTokenizer
        let limit: Int
        var ids: [Int32] = []

        init(tokenizer: WordPieceTokenizer, limit: Int) {
            self.tokenizer = tokenizer
            self.limit = limit
        }

        var isFull: Bool { ids.count >= limit }
        mutating func word(_ bytes: UnsafeBufferPointer<UInt8>, scalarCount: Int, hash: UInt32) {
            tokenizer.appendPieces(bytes, scalarCount: scalarCount, hash: hash, into: &ids)
        }
        mutating func specialToken(_ id: Int32) { ids.append(id) }
    }

    /// Greedy longest-match-first WordPiece of one normalised word; the whole word becomes
    /// `[UNK]` when it is too long or some position matches no piece.
    /// `hash` is the FNV-1a hash of `word`, for the whole-word fast path.
    func appendPieces(_ word: UnsafeBufferPointer<UInt8>, scalarCount: Int, hash: UInt32,
                              into ids: inout [Int32]) {
        if scalarCount > Self.maxInputCharactersPerWord {
            ids.append(unkID)
            return
        }
        let whole = wholeWords.id(of: word, hash: hash)
        if whole >= 0 {
            ids.append(whole)
            return
        }
        let mark = ids.count
        var start = 0
        while start < word.count {
            var node = start == 0 ? VocabularyTrie.root : continuationRoot
            var bestEnd = -1
            var bestID: Int32 = 0
            var j = start
            while node >= 0 && j < word.count {
                node = trie.child(node, word[j])
                j += 1
                if node >= 0 {
                    let id = trie.tokenIDs[Int(node)]
                    if id >= 0 { bestEnd = j; bestID = id }
                }
            }
            if bestEnd < 0 {
                ids.removeSubrange(mark...)
                ids.append(unkID)
                return
            }
            ids.append(bestID)
            start = bestEnd
        }
    }

    /// Writes the UTF-8 encoding of scalar `v` (1-4 bytes) and returns its length.
    @inline(__always)
    static func encodeUTF8(_ v: UInt32, into p: UnsafeMutableRawPointer) -> Int {
        if v < 0x80 {
            p.storeBytes(of: UInt8(v), as: UInt8.self); return 1
        } else if v < 0x800 {
            p.storeBytes(of: UInt8(0xC0 | v >> 6), as: UInt8.self)
            p.storeBytes(of: UInt8(0x80 | v & 0x3F), toByteOffset: 1, as: UInt8.self); return 2
        } else if v < 0x10000 {
            p.storeBytes(of: UInt8(0xE0 | v >> 12), as: UInt8.self)
            p.storeBytes(of: UInt8(0x80 | (v >> 6) & 0x3F), toByteOffset: 1, as: UInt8.self)
            p.storeBytes(of: UInt8(0x80 | v & 0x3F), toByteOffset: 2, as: UInt8.self); return 3
        } else {
            p.storeBytes(of: UInt8(0xF0 | v >> 18), as: UInt8.self)
            p.storeBytes(of: UInt8(0x80 | (v >> 12) & 0x3F), toByteOffset: 1, as: UInt8.self)
            p.storeBytes(of: UInt8(0x80 | (v >> 6) & 0x3F), toByteOffset: 2, as: UInt8.self)
            p.storeBytes(of: UInt8(0x80 | v & 0x3F), toByteOffset: 3, as: UInt8.self); return 4
        }
    }
}
