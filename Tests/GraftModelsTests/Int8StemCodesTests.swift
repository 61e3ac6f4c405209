import GraftKernels
import GraftModels
import GraftNN
import GraftTensor
import XCTest

/// A stem handing codes to the first inverted-residual block in int8 (`ConvBatchNorm.forward(_:next:training:)`,
/// docs/PRECISION.md "int8 blocks"): the codes are the unit's own int8 output quantized in the block's input
/// quantization, and the networks give the same int8 output whether the stem hands codes or fp32 over.
final class Int8StemCodesTests: XCTestCase {
    func testStemWritesTheCodesOfItsInt8Output() throws {
        try Precision.int8.requireSupport()
        var g = SeededGenerator(seed: 5)
        let stem = ConvBatchNorm(Conv2d(3, 8, kernel: 3, stride: 2, padding: 1, bias: false, generator: &g), BatchNorm2d(8), .relu6)
        let x = Tensor.uniform([2, 17, 15, 3], low: -2, high: 2, generator: &g)
        try Calibration.recording { _ = try withNoGrad { try stem.forward(x, training: false) } }
        let next = ActivationQuantization(min: 0, max: 6)

        let fp32Out = try withNoGrad { try stem.forward(x, next: next, training: false) }
        guard case .fp32 = fp32Out else { return XCTFail("fp32 inference writes fp32") }
        let int8 = try withPrecision(.int8) { try withNoGrad { try stem.forward(x, training: false) } }
        let unread = try withPrecision(.int8) { try withNoGrad { try stem.forward(x, next: nil, training: false) } }
        guard case .fp32 = unread else { return XCTFail("no reader of codes: fp32") }
        let handed = try withPrecision(.int8) { try withNoGrad { try stem.forward(x, next: next, training: false) } }
        guard case .codes(_, let shape, let q) = handed else { return XCTFail("int8 with a reader writes codes") }
        XCTAssertEqual(shape, int8.shape)
        XCTAssertEqual(q, next)
        // Codes = round(y / scale) of the unit's own int8 output y (saturated to u8): equal up to a rounding tie.
        let decoded = try handed.fp32().values
        let expected = int8.values.map { min(max(($0 * (1 / next.scale)).rounded(.toNearestOrEven), 0), 255) * next.scale }
        let off = zip(decoded, expected).filter { abs($0 - $1) > next.scale * 1e-3 }
        XCTAssertLessThanOrEqual(off.count, decoded.count / 1000, "codes other than the int8 output's rounding")
        for (a, b) in off { XCTAssertLessThanOrEqual(abs(a - b), next.scale * 1.001, "at most one code apart") }
        XCTAssertGreaterThan(Set(decoded).count, 20, "real codes, not a constant")
    }

    /// Whole networks: the stem handing codes to the first block against the same network with fp32 between every
    /// unit (`keepsCodesBetweenBlocks` false); the blocks' own codes differ from fp32 by rounding, so this bounds both.
    func testNetworksAgreeWithStemCodes() throws {
        try Precision.int8.requireSupport()
        let models: [any ImageBackbone & Module] = [EfficientNetLite(try .lite(0, numClasses: 10)),
                                                    try MobileNetV2(.init(widthMultiplier: 0.5, numClasses: 10))]
        for model in models {
            var g = SeededGenerator(seed: 9)
            let x = Tensor.uniform([2, 96, 96, 3], low: -2, high: 2, generator: &g)
            try Calibration.recording { _ = try withNoGrad { try model.forward(x, upTo: nil, training: false) } }
            let codes = try withPrecision(.int8) { try withNoGrad { try model.forward(x, upTo: "penultimate", training: false) } }
            let apart = try FusedInvertedResidual.$keepsCodesBetweenBlocks.withValue(false) {
                try withPrecision(.int8) { try withNoGrad { try model.forward(x, upTo: "penultimate", training: false) } }
            }
            let a = codes.values, b = apart.values
            let dot = zip(a, b).map { $0 * $1 }.reduce(0, +)
            let cosine = dot / (a.map { $0 * $0 }.reduce(0, +).squareRoot() * b.map { $0 * $0 }.reduce(0, +).squareRoot())
            XCTAssertGreaterThan(cosine, 0.999, "\(type(of: model))")
        }
    }
}
