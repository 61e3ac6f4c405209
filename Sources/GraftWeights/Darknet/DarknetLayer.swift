/// One layer of a Darknet network, typed, with the shapes it reads and writes.
public struct DarknetLayer: Sendable, Equatable {
    /// Height, width and channels of one feature map (Darknet is NCHW; Graft runs it NHWC).
    public struct Shape: Sendable, Equatable, CustomStringConvertible {
        public var height: Int, width: Int, channels: Int
        public init(height: Int, width: Int, channels: Int) {
            self.height = height; self.width = width; self.channels = channels
        }
        public var description: String { "\(height)x\(width)x\(channels)" }
    }

    public enum Activation: String, Sendable, Equatable {
        case linear, leaky, relu, logistic
    }

    /// `[convolutional]`: conv (+ batch norm) + activation. Darknet's `pad=1` means `size/2`.
    public struct Convolution: Sendable, Equatable {
        public var filters: Int, size: Int, stride: Int, padding: Int, groups: Int
        public var inputChannels: Int
        public var batchNormalize: Bool
        public var activation: Activation
        /// The weight's PyTorch-style shape, [filters, inputChannels / groups, size, size].
        public var weightShape: [Int] { [filters, inputChannels / groups, size, size] }
        /// Floats this layer reads from `.weights`: biases (or 4 x filters for batch norm), then weights.
        public var parameterCount: Int { (batchNormalize ? 4 : 1) * filters + weightShape.reduce(1, *) }
    }

    /// `[maxpool]`: Darknet pads `padding` (default size - 1) cells in all, `padding / 2` of them before
    /// the map, and ignores padded cells, so a 2x2 stride-1 pool keeps the size.
    public struct MaxPool: Sendable, Equatable {
        public var size: Int, stride: Int, padding: Int
        public init(size: Int, stride: Int, padding: Int) { self.size = size; self.stride = stride; self.padding = padding }
        public var padBefore: Int { padding / 2 }
        public var padAfter: Int { padding - padding / 2 }
    }

    /// `[route]`: the channel concatenation of earlier layers (absolute indices), optionally split
    /// into `groups` and keeping group `groupID` (YOLOv4-tiny's CSP blocks).
    public struct Route: Sendable, Equatable {
        public var layers: [Int]
        public var groups: Int, groupID: Int
        public init(layers: [Int], groups: Int, groupID: Int) { self.layers = layers; self.groups = groups; self.groupID = groupID }
    }

    /// `[yolo]`: one detection scale. `anchors` are (width, height) in input pixels; `mask` picks this
    /// scale's anchors, one box per anchor per cell, each `5 + classes` channels.
    public struct YoloHead: Sendable, Equatable {
        public var mask: [Int]
        public var anchors: [Float]
        public var classes: Int
        public var scaleXY: Float
        /// (width, height) of the anchors this head predicts with.
        public var maskedAnchors: [(width: Float, height: Float)] { mask.map { (anchors[2 * $0], anchors[2 * $0 + 1]) } }
        public static func == (a: YoloHead, b: YoloHead) -> Bool {
            a.mask == b.mask && a.anchors == b.anchors && a.classes == b.classes && a.scaleXY == b.scaleXY
        }
    }

    public enum Kind: Sendable, Equatable {
        case convolutional(Convolution)
        case maxpool(MaxPool)
        case route(Route)
        /// Nearest-neighbour upsampling by an integer factor.
        case upsample(stride: Int)
        /// Adds layer `from`'s output (absolute index) to the previous layer's.
        case shortcut(from: Int, activation: Activation)
        case yolo(YoloHead)
    }

    public let index: Int
    /// Line of the section header in the cfg.
    public let line: Int
    public let kind: Kind
    public let output: Shape

    public var typeName: String {
        switch kind {
        case .convolutional: "convolutional"
        case .maxpool: "maxpool"
        case .route: "route"
        case .upsample: "upsample"
        case .shortcut: "shortcut"
        case .yolo: "yolo"
        }
    }
}
