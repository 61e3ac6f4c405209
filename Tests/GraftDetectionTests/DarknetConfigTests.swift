import Foundation
import GraftWeights
import XCTest

/// The cfg grammar: the real YOLOv3-tiny file, YOLOv3/YOLOv4-tiny constructs, and hostile files.
final class DarknetConfigTests: XCTestCase {
    func testYoloV3TinyShapesAndParameterCount() throws {
        let config = try DarknetConfig.read(DetectionFixtures.cfg)
        XCTAssertEqual(config.input, .init(height: 416, width: 416, channels: 3))
        XCTAssertEqual(config.layers.count, 24)
        XCTAssertEqual(config.yoloLayers, [16, 23])
        XCTAssertEqual(config.layers[15].output, .init(height: 13, width: 13, channels: 255))
        XCTAssertEqual(config.layers[22].output, .init(height: 26, width: 26, channels: 255))
        // The stride-1 maxpool keeps 13x13 (Darknet pads one cell after the map).
        XCTAssertEqual(config.layers[11].kind, .maxpool(.init(size: 2, stride: 1, padding: 1)))
        XCTAssertEqual(config.layers[11].output, .init(height: 13, width: 13, channels: 512))
        XCTAssertEqual(config.layers[20].kind, .route(.init(layers: [19, 8], groups: 1, groupID: 0)))
        XCTAssertEqual(config.layers[20].output.channels, 128 + 256)
        // environment.md: 8,858,734 parameters; the file is a 20-byte header plus those floats.
        XCTAssertEqual(config.parameterCount, 8_858_734)
        XCTAssertEqual(20 + 4 * config.parameterCount, 35_434_956)
        guard case let .yolo(head) = config.layers[16].kind else { return XCTFail("layer 16 is not [yolo]") }
        XCTAssertEqual(head.mask, [3, 4, 5])
        XCTAssertEqual(head.classes, 80)
        XCTAssertEqual(head.maskedAnchors.map(\.width), [81, 135, 344])
    }

    /// YOLOv4-tiny's grouped route and scale_x_y, YOLOv3's stride-2 conv and shortcut.
    func testYoloV4TinyAndV3Constructs() throws {
        let text = """
        [net]
        width=64
        height=32
        channels=3

        [convolutional]
        batch_normalize=1
        filters=32
        size=3
        stride=2
        pad=1
        activation=leaky

        [route]
        layers=-1
        groups=2
        group_id=1

        [convolutional]
        filters=32
        size=1
        stride=1
        pad=1
        activation=linear

        [convolutional]
        filters=16
        size=3
        stride=1
        pad=1
        activation=leaky

        [shortcut]
        from=-3
        activation=linear

        [route]
        layers = -1, -5

        [convolutional]
        filters=21
        size=1
        activation=linear

        [yolo]
        mask = 0,1,2
        anchors = 10,14, 23,27, 37,58
        classes=2
        num=3
        scale_x_y = 1.05
        """
        let config = try DarknetConfig.parse(text)
        XCTAssertEqual(config.layers[0].output, .init(height: 16, width: 32, channels: 32))
        XCTAssertEqual(config.layers[1].output, .init(height: 16, width: 32, channels: 16))
        XCTAssertEqual(config.layers[4].kind, .shortcut(from: 1, activation: .linear))
        XCTAssertEqual(config.layers[5].output.channels, 16 + 32)
        guard case let .yolo(head) = config.layers[7].kind else { return XCTFail() }
        XCTAssertEqual(head.scaleXY, 1.05)
        // Conv 2 reads the 16-channel group: 32 x 16 x 1 x 1 weights + 32 biases.
        guard case let .convolutional(c) = config.layers[2].kind else { return XCTFail() }
        XCTAssertEqual(c.weightShape, [32, 16, 1, 1])
        XCTAssertEqual(c.parameterCount, 32 + 512)
    }

    func testWithClassesReplacesOnlyTheHeads() throws {
        let config = try DarknetConfig.read(DetectionFixtures.cfg)
        let (one, heads) = try config.withClasses(1)
        XCTAssertEqual(heads, [15, 22])
        XCTAssertEqual(one.layers[15].output.channels, 18)
        XCTAssertEqual(one.layers[22].output.channels, 18)
        for i in config.layers.indices where !heads.contains(i) && ![16, 23].contains(i) {
            XCTAssertEqual(one.layers[i], config.layers[i])
        }
    }

    /// Each hostile cfg is refused with a typed error naming the line (and section).
    func testHostileConfigsNameTheLine() {
        let net = "[net]\nwidth=32\nheight=32\n"
        let cases: [(String, String)] = [
            ("", "no sections"),
            ("width=3\n[net]", "before any [section]"),
            ("[convolutional]\nfilters=3", "the first section must be [net]"),
            ("[net]\nwidth=32\n", ":1: [net]: missing 'height'"),
            ("[net\nwidth=1", ":1: section header"),
            (net + "garbage line", ":4: 'garbage line' is neither"),
            (net + "[convolutional]\nfilters=abc", ":5: [convolutional] (layer 0): 'filters=abc' is not an integer"),
            (net + "[convolutional]\nfilters=99999999999", "outside 1...65536"),
            (net + "[convolutional]\nsize=999", ":5: [convolutional] (layer 0): 'size=999' is outside"),
            (net + "[convolutional]\nactivation=swishy", "activation 'swishy' is not supported"),
            (net + "[convolutional]\nfilters=4\nfilters=5", "'filters' is set twice (first on line 5)"),
            (net + "[route]\nlayers=-1", ":5: [route] (layer 0): 'layers' entry -1 refers to layer -1"),
            (net + "[convolutional]\n[route]\nlayers=5", "refers to layer 5, not an earlier layer"),
            (net + "[convolutional]\nfilters=4\n[route]\nlayers=0\ngroups=3", "groups=3 does not divide 4 channels"),
            (net + "[convolutional]\n[maxpool]\nsize=2\nstride=2\n[route]\nlayers=-1,-2", "sizes differ"),
            (net + "[shortcut]\nfrom=-1", "refers to layer -1"),
            (net + "[convolutional]\nfilters=4\n[convolutional]\nfilters=8\n[shortcut]\nfrom=-2",
             "a shortcut adds equal shapes"),
            (net + "[convolutional]\nfilters=20\n[yolo]\nmask=0,1\nanchors=1,2,3,4\nnum=2\nclasses=80",
             "needs 170"),
            (net + "[convolutional]\n[yolo]\nanchors=1,2,3", "3 anchor values for num=1"),
            (net + "[convolutional]\n[yolo]\nanchors=-1,2", "not a positive number"),
            (net + "[convolutional]\n[yolo]\nanchors=1,2\nmask=4", "'mask' entry 4 is outside 0...0"),
            (net + "[lstm]\n", "section [lstm] is not supported"),
            (net + "[convolutional]\nsize=31\nstride=32\n[maxpool]\nsize=31\npadding=0", "does not fit"),
            ("[net]\nwidth=8192\nheight=8192\nchannels=65536\n[convolutional]\nfilters=65536", "larger than"),
        ]
        for (text, expected) in cases {
            do {
                _ = try DarknetConfig.parse(text, file: "bad.cfg")
                XCTFail("accepted: \(text.debugDescription)")
            } catch let e as DarknetConfigError {
                XCTAssertTrue(e.description.contains(expected), "\(text.debugDescription): \(e.description)")
                XCTAssertTrue(e.description.hasPrefix("bad.cfg"), e.description)
            } catch {
                XCTFail("untyped error \(error)")
            }
        }
    }

    /// Random edits of the real cfg: typed errors or a valid config, never a crash.
    func testFuzzedConfigsNeverCrash() throws {
        let text = try String(contentsOf: DetectionFixtures.cfg, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var rng = SplitMix(seed: 16)
        let junk = ["=", "[", "]", "-1", "0", "99999999", "-", ",", "[route]", "[yolo]", "layers=-99", "size=0",
                    "stride=64", "filters=0", "mask=9", "groups=7", "\u{0}", "é", "from=-1", "pad=2"]
        var accepted = 0, refused = 0
        for _ in 0..<400 {
            var mutated = lines
            for _ in 0..<(1 + rng.next(3)) {
                let i = rng.next(mutated.count)
                switch rng.next(4) {
                case 0: mutated[i] = junk[rng.next(junk.count)]
                case 1: mutated[i] += junk[rng.next(junk.count)]
                case 2: mutated.remove(at: i)
                default: mutated.insert(junk[rng.next(junk.count)], at: i)
                }
            }
            do { _ = try DarknetConfig.parse(mutated.joined(separator: "\n"), file: "fuzz.cfg"); accepted += 1 }
            catch is DarknetConfigError { refused += 1 }
        }
        XCTAssertEqual(accepted + refused, 400)
        XCTAssertGreaterThan(refused, 100)
    }
}

/// A small deterministic generator for the fuzz tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next64() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func next(_ n: Int) -> Int { n <= 0 ? 0 : Int(next64() % UInt64(n)) }
}
