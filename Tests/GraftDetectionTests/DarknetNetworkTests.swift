import Foundation
import GraftData
import GraftModels
import GraftNN
import GraftTensor
import GraftWeights
import XCTest

/// Layer semantics on hand-checked values, and the pieces around the network.
final class DarknetNetworkTests: XCTestCase {
    /// Darknet's 2x2 stride-1 maxpool pads one cell after the map, ignoring it: out[i] = max(x[i], x[i+1]) inside,
    /// the edge cell alone at the end.
    func testStrideOneMaxPoolKeepsTheSize() throws {
        let config = try DarknetConfig.parse("[net]\nwidth=3\nheight=2\nchannels=1\n[maxpool]\nsize=2\nstride=1")
        let network = DarknetNetwork(config: config)
        let x = try Tensor(shape: [1, 2, 3, 1], values: [1, 5, 2,
                                                         -3, 0, -7])
        let y = try network.forward(x, upTo: "layer0")
        XCTAssertEqual(y.shape, [1, 2, 3, 1])
        XCTAssertEqual(y.values, [5, 5, 2,
                                  0, 0, -7])
    }

    func testUpsampleAndRouteAndShortcut() throws {
        let config = try DarknetConfig.parse("""
            [net]
            width=2
            height=1
            channels=1
            [upsample]
            stride=2
            [route]
            layers=-1,0
            [route]
            layers=-2
            [shortcut]
            from=-3
            activation=leaky
            """)
        let network = DarknetNetwork(config: config)
        let x = try Tensor(shape: [1, 1, 2, 1], values: [1, -2])
        XCTAssertEqual(try network.forward(x, upTo: "layer0").values, [1, 1, -2, -2, 1, 1, -2, -2])
        XCTAssertEqual(try network.forward(x, upTo: "layer1").shape, [1, 2, 4, 2])
        XCTAssertEqual(try network.forward(x, upTo: "layer1").values, [1, 1, 1, 1, -2, -2, -2, -2, 1, 1, 1, 1, -2, -2, -2, -2])
        // leaky(upsampled + upsampled)
        XCTAssertEqual(try network.forward(x, upTo: "layer3").values.map { ($0 * 10).rounded() / 10 },
                       [2, 2, -0.4, -0.4, 2, 2, -0.4, -0.4])
        XCTAssertThrowsError(try network.forward(x, upTo: "layer9"))
    }

    /// The gradient of nearest upsampling is the sum over each block.
    func testUpsampleGradient() throws {
        let x = try Tensor(shape: [1, 2, 2, 1], values: [1, 2, 3, 4], requiresGrad: true)
        let w = try Tensor(shape: [1, 4, 4, 1], values: (0..<16).map(Float.init))
        let loss = try (x.upsampledNearest(2) * w).sum()
        try loss.backward()
        let blockSums: [Float] = [0 + 1 + 4 + 5, 2 + 3 + 6 + 7, 8 + 9 + 12 + 13, 10 + 11 + 14 + 15]
        XCTAssertEqual(x.grad?.values, blockSums)
    }

    /// A conv + batch-norm + leaky unit equals the formula, folded (inference) and unfolded (taped).
    func testConvUnitFoldedAndTapedAgree() throws {
        let config = try DarknetConfig.parse("""
            [net]
            width=3
            height=3
            channels=2
            [convolutional]
            batch_normalize=1
            filters=2
            size=3
            pad=1
            activation=leaky
            """)
        var rng = SplitMix(seed: 9)
        func r() -> Float { Float(rng.next(2000)) / 1000 - 1 }
        let floats = (0..<config.parameterCount).map { i -> Float in i >= 6 && i < 8 ? 0.5 + abs(r()) : r() }
        let network = DarknetNetwork(config: config)
        try network.load(DarknetWeights.read(bytes: DarknetWeightsTests.header() + DarknetWeightsTests.floats(floats), config: config))
        let x = try Tensor(shape: [1, 3, 3, 2], values: (0..<18).map { _ in r() })
        let folded = try withNoGrad { try network.forward(x, upTo: "layer0") }
        x.requiresGrad = true
        let taped = try network.forward(x, upTo: "layer0")
        // Reference: beta, gamma, mean, var = floats[0..<2], [2..<4], [4..<6], [6..<8] (var positive); weights [2, 2, 3, 3].
        let xs = x.values
        var expected = [Float](repeating: 0, count: 18)
        for oy in 0..<3 { for ox in 0..<3 { for o in 0..<2 {
            var acc: Float = 0
            for i in 0..<2 { for ky in 0..<3 { for kx in 0..<3 {
                let iy = oy + ky - 1, ix = ox + kx - 1
                guard (0..<3).contains(iy), (0..<3).contains(ix) else { continue }
                let weight: Float = floats[8 + ((o * 2 + i) * 3 + ky) * 3 + kx]
                acc += xs[(iy * 3 + ix) * 2 + i] * weight
            } } }
            let scale: Float = floats[2 + o] / (floats[6 + o] + DarknetNetwork.batchNormEpsilon).squareRoot()
            let v: Float = (acc - floats[4 + o]) * scale + floats[o]
            expected[(oy * 3 + ox) * 2 + o] = v > 0 ? v : 0.1 * v
        } } }
        for (a, b) in zip(folded.values, expected) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        for (a, b) in zip(taped.values, expected) { XCTAssertEqual(a, b, accuracy: 1e-4) }
    }

    func testNewHeadsKeepTheTrunk() throws {
        let network = try DarknetNetwork(cfg: DetectionFixtures.cfg, weights: DetectionFixtures.weights)
        let (faces, replaced) = try network.withNewHeads(classes: 1, seed: 4)
        XCTAssertEqual(replaced, [15, 22])
        XCTAssertEqual(faces.heads.map(\.classes), [1, 1])
        let old = Dictionary(uniqueKeysWithValues: network.stateDict()), new = Dictionary(uniqueKeysWithValues: faces.stateDict())
        XCTAssertEqual(new["layers.15.conv.weight"]?.shape, [18, 512, 1, 1])
        XCTAssertEqual(new["layers.13.conv.weight"]?.values, old["layers.13.conv.weight"]?.values)
        XCTAssertEqual(new["layers.21.bn.running_var"]?.values, old["layers.21.bn.running_var"]?.values)
    }

    func testNonMaxSuppressionIsPerClass() {
        let a = BoundingBox(x: 0, y: 0, width: 10, height: 10), b = BoundingBox(x: 1, y: 0, width: 10, height: 10)
        let c = BoundingBox(x: 20, y: 0, width: 10, height: 10)
        // b overlaps a (IoU 0.818) in the same class: dropped; in another class: kept.
        XCTAssertEqual(NonMaxSuppression.keep(boxes: [a, b, c], scores: [0.9, 0.8, 0.7], classes: [0, 0, 0], iouThreshold: 0.45), [0, 2])
        XCTAssertEqual(NonMaxSuppression.keep(boxes: [a, b, c], scores: [0.9, 0.8, 0.7], classes: [0, 1, 0], iouThreshold: 0.45), [0, 1, 2])
        XCTAssertEqual(NonMaxSuppression.keep(boxes: [a, b], scores: [0.5, 0.8], classes: [0, 0], iouThreshold: 0.9), [1, 0])
    }

    /// Darknet's letterbox: 600x400 into 416x416 is resized to 416x277, 69 rows of grey above;
    /// a box centred in the input maps to the image centre.
    func testLetterboxGeometryAndInverse() throws {
        let g = LetterboxGeometry(imageWidth: 600, imageHeight: 400, inputWidth: 416, inputHeight: 416, resize: .letterbox)
        XCTAssertEqual([g.resizedWidth, g.resizedHeight, g.offsetX, g.offsetY], [416, 277, 0, 69])
        let box = g.imageBox(centerX: 0.5, centerY: 0.5, width: 0.5, height: 277.0 / 416 / 2)
        XCTAssertEqual(box.x, 150, accuracy: 1e-3)
        XCTAssertEqual(box.width, 300, accuracy: 1e-3)
        XCTAssertEqual(box.height, 200, accuracy: 1e-3)
        XCTAssertEqual(box.y, 100, accuracy: 0.5)
        let image = try XCTUnwrap(RGBImage(width: 2, height: 1, pixels: [0, 0, 0, 255, 255, 255]))
        let small = LetterboxGeometry(imageWidth: 2, imageHeight: 1, inputWidth: 4, inputHeight: 4, resize: .letterbox)
        var slot = [Float](repeating: -1, count: 4 * 4 * 3)
        slot.withUnsafeMutableBufferPointer { small.fill(image, into: $0.baseAddress!) }
        XCTAssertEqual([small.resizedWidth, small.resizedHeight, small.offsetY], [4, 2, 1])
        XCTAssertEqual(slot[0], 0.5)  // grey border
        // Row 1 is the image, corners aligned: 0, 1/3, 2/3, 1.
        XCTAssertEqual(stride(from: 0, to: 12, by: 3).map { slot[12 + $0] }, [0, 1.0 / 3, 2.0 / 3, 1], accuracy: 1e-6)
        let stretch = LetterboxGeometry(imageWidth: 600, imageHeight: 400, inputWidth: 416, inputHeight: 416, resize: .stretch)
        XCTAssertEqual(stretch.imageBox(centerX: 0.5, centerY: 0.5, width: 1, height: 1), BoundingBox(x: 0, y: 0, width: 600, height: 400))
    }
}

func XCTAssertEqual(_ a: [Float], _ b: [Float], accuracy: Float, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
