import Foundation
import GraftModels
import XCTest

/// A config.json the user brings is checked before anything is allocated: sizes must be positive and
/// the parameters must fit in memory (allocation failures while building a model cannot be thrown).
final class BertConfigValidationTests: XCTestCase {
    let miniLM = BERT.Config(vocabSize: 30522, hiddenSize: 384, numHiddenLayers: 6, numAttentionHeads: 12, intermediateSize: 1536)

    func testParameterCountMatchesTheBuiltModel() throws {
        let small = BERT.Config(vocabSize: 50, hiddenSize: 8, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 12,
                                maxPositionEmbeddings: 16)
        XCTAssertEqual(small.parameterCount, try BERT(small).parameterCount)
        // all-MiniLM-L6-v2 with its pooler, as PyTorch counts BertModel's parameters.
        XCTAssertEqual(miniLM.parameterCount, 22_713_216)
    }

    func testHostileSizesAreRefusedBeforeAllocation() {
        var huge = miniLM
        huge.vocabSize = 1 << 40
        XCTAssertThrowsError(try BERT(huge)) { XCTAssertTrue("\($0)".contains("do not fit in this machine's memory"), "\($0)") }
        var overflow = miniLM
        overflow.intermediateSize = Int.max / 2
        XCTAssertThrowsError(try BERT(overflow)) { XCTAssertTrue("\($0)".contains("more than 2^52"), "\($0)") }
        var noHeads = miniLM
        noHeads.numAttentionHeads = 0
        XCTAssertThrowsError(try BERT(noHeads)) { XCTAssertTrue("\($0)".contains("num_attention_heads 0"), "\($0)") }
    }
}
