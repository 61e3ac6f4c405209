import Foundation

/// A Darknet network description (`.cfg`): the `[net]` input size and the typed layers, with every
/// shape worked out and checked, so the `.weights` reader knows each tensor's size before reading.
///
/// The grammar is Darknet's (src/parser.c): `[section]` headers, `key=value` options (spaces are
/// ignored), `#` and `;` comments. Options a forward pass does not need (training schedule,
/// augmentation, loss tuning) are accepted and ignored. Sections: `[net]`/`[network]`,
/// `[convolutional]`, `[maxpool]`, `[route]`, `[upsample]`, `[shortcut]`, `[yolo]`: enough for
/// YOLOv3, YOLOv3-tiny and YOLOv4-tiny.
public struct DarknetConfig: Sendable, Equatable {
    public let file: String
    public let input: DarknetLayer.Shape
    public let layers: [DarknetLayer]

    /// Bounds that keep a hostile file from declaring absurd tensors (real cfgs are far inside them).
    public enum Limits {
        public static let fileBytes = 4 << 20
        public static let layers = 4096
        public static let side = 8192
        public static let channels = 65536
        public static let kernel = 31
        public static let stride = 32
        /// Elements of one feature map (height x width x channels).
        public static let mapElements = 1 << 31
    }

    /// Floats the `.weights` file holds after its header: every conv's parameters, in cfg order.
    public var parameterCount: Int {
        layers.reduce(0) { n, layer in
            if case let .convolutional(c) = layer.kind { return n + c.parameterCount }
            return n
        }
    }

    /// Indices of the `[yolo]` layers, in cfg order (largest stride first for the YOLO family).
    public var yoloLayers: [Int] { layers.filter { if case .yolo = $0.kind { true } else { false } }.map(\.index) }

    public static func read(_ url: URL) throws -> DarknetConfig {
        let path = url.path
        let data: Data
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            guard attributes[.type] as? FileAttributeType == .typeRegular else {
                throw DarknetConfigError.cannotRead(file: path, reason: "not a regular file")
            }
            if let size = attributes[.size] as? Int, size > Limits.fileBytes {
                throw DarknetConfigError.cannotRead(file: path, reason: "\(size) bytes, larger than a cfg can be (\(Limits.fileBytes))")
            }
            data = try Data(contentsOf: url)
        } catch let e as DarknetConfigError {
            throw e
        } catch {
            throw DarknetConfigError.cannotRead(file: path, reason: error.localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DarknetConfigError.cannotRead(file: path, reason: "not UTF-8 text")
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String = "<cfg>") throws -> DarknetConfig {
        guard text.utf8.count <= Limits.fileBytes else {
            throw DarknetConfigError.cannotRead(file: file, reason: "larger than a cfg can be (\(Limits.fileBytes) bytes)")
        }
        let sections = try sections(of: text, file: file)
        guard let net = sections.first, net.type == "net" || net.type == "network" else {
            throw DarknetConfigError.syntax(file: file, line: sections.first?.line ?? 1, reason: "the first section must be [net]")
        }
        let input = DarknetLayer.Shape(height: try net.int("height", in: 1...Limits.side),
                                       width: try net.int("width", in: 1...Limits.side),
                                       channels: try net.int("channels", default: 3, in: 1...Limits.channels))
        var layers: [DarknetLayer] = []
        for section in sections.dropFirst() {
            let previous = layers.last?.output ?? input
            layers.append(try layer(section, previous: previous, earlier: layers))
        }
        guard !layers.isEmpty else { throw DarknetConfigError.invalid(file: file, section: net.name, line: net.line, reason: "no layers") }
        return DarknetConfig(file: file, input: input, layers: layers)
    }

    /// Splits the text into sections, keeping line numbers.
    static func sections(of text: String, file: String) throws -> [DarknetSection] {
        var sections: [DarknetSection] = []
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = String(rawLine).trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else {
                    throw DarknetConfigError.syntax(file: file, line: lineNumber, reason: "section header '\(line.prefix(60))' is not '[name]'")
                }
                let type = String(line.dropFirst().dropLast()).trimmingSpaces
                guard sections.count <= Limits.layers else {
                    throw DarknetConfigError.syntax(file: file, line: lineNumber, reason: "more than \(Limits.layers) layers")
                }
                sections.append(DarknetSection(type: type, line: lineNumber, layerIndex: sections.count - 1, file: file))
                continue
            }
            guard let eq = line.firstIndex(of: "=") else {
                throw DarknetConfigError.syntax(file: file, line: lineNumber, reason: "'\(line.prefix(60))' is neither [section] nor key=value")
            }
            // Darknet strips every space, so "saturation = 1.5" and "layers = -1, 8" are valid.
            let key = String(line[..<eq]).trimmingSpaces, value = String(line[line.index(after: eq)...]).trimmingSpaces
            guard !key.isEmpty else { throw DarknetConfigError.syntax(file: file, line: lineNumber, reason: "option with an empty key") }
            guard !sections.isEmpty else {
                throw DarknetConfigError.syntax(file: file, line: lineNumber, reason: "option '\(key)' before any [section]")
            }
            let s = sections.count - 1
            if let first = sections[s].options[key] {
                throw sections[s].invalid(lineNumber, "'\(key)' is set twice (first on line \(first.line))")
            }
            sections[s].options[key] = (value, lineNumber)
        }
        guard !sections.isEmpty else { throw DarknetConfigError.syntax(file: file, line: max(lineNumber, 1), reason: "no sections") }
        return sections
    }

    static func activation(_ s: DarknetSection) throws -> DarknetLayer.Activation {
        let (name, line) = s.string("activation", default: "linear")
        guard let a = DarknetLayer.Activation(rawValue: name) else { throw s.unsupported(line, "activation '\(name.prefix(40))'") }
        return a
    }

    /// Checks one map's element count against `Limits.mapElements`.
    static func checked(_ shape: DarknetLayer.Shape, _ s: DarknetSection) throws -> DarknetLayer.Shape {
        guard shape.height >= 1, shape.width >= 1, shape.channels >= 1 else { throw s.invalid(s.line, "output \(shape) is empty") }
        let (hw, o1) = shape.height.multipliedReportingOverflow(by: shape.width)
        let (n, o2) = hw.multipliedReportingOverflow(by: shape.channels)
        guard !o1, !o2, n <= Limits.mapElements else { throw s.invalid(s.line, "output \(shape) is larger than \(Limits.mapElements) values") }
        return shape
    }

    /// Resolves a layer reference: negative is relative to this layer, non-negative absolute.
    static func reference(_ v: Int, _ s: DarknetSection, line: Int, key: String) throws -> Int {
        let target = v < 0 ? s.layerIndex + v : v
        guard target >= 0, target < s.layerIndex else {
            throw s.invalid(line, "'\(key)' entry \(v) refers to layer \(target), not an earlier layer")
        }
        return target
    }

    static func layer(_ s: DarknetSection, previous: DarknetLayer.Shape, earlier: [DarknetLayer]) throws -> DarknetLayer {
        let kind: DarknetLayer.Kind
        var output = previous
        switch s.type {
        case "convolutional", "conv":
            let size = try s.int("size", default: 1, in: 1...Limits.kernel)
            let stride = try s.int("stride", default: 1, in: 1...Limits.stride)
            let pad = try s.int("pad", default: 0, in: 0...1)
            let padding = pad == 1 ? size / 2 : try s.int("padding", default: 0, in: 0...Limits.kernel)
            let filters = try s.int("filters", default: 1, in: 1...Limits.channels)
            let groups = try s.int("groups", default: 1, in: 1...Limits.channels)
            if try s.int("dilation", default: 1, in: 1...Limits.kernel) != 1 { throw s.unsupported(s.options["dilation"]!.line, "dilation") }
            for key in ["stride_x", "stride_y", "antialiasing", "deform", "share_index", "binary", "xnor"] where s.options[key] != nil {
                if key.hasPrefix("stride_"), Int(s.options[key]!.value) == stride { continue }
                if let v = Int(s.options[key]!.value), v == 0, !key.hasPrefix("stride_") { continue }
                throw s.unsupported(s.options[key]!.line, "'\(key)'")
            }
            guard previous.channels % groups == 0, filters % groups == 0 else {
                throw s.invalid(s.options["groups"]?.line ?? s.line,
                                "groups=\(groups) does not divide \(previous.channels) input channels and \(filters) filters")
            }
            let conv = DarknetLayer.Convolution(filters: filters, size: size, stride: stride, padding: padding, groups: groups,
                                                inputChannels: previous.channels,
                                                batchNormalize: try s.int("batch_normalize", default: 0, in: 0...1) == 1,
                                                activation: try activation(s))
            let h = (previous.height + 2 * padding - size) / stride + 1, w = (previous.width + 2 * padding - size) / stride + 1
            guard previous.height + 2 * padding >= size, previous.width + 2 * padding >= size else {
                throw s.invalid(s.line, "a \(size)x\(size) kernel does not fit the \(previous) input")
            }
            output = DarknetLayer.Shape(height: h, width: w, channels: filters)
            kind = .convolutional(conv)

        case "maxpool", "max":
            let stride = try s.int("stride", default: 1, in: 1...Limits.stride)
            let size = try s.int("size", default: stride, in: 1...Limits.kernel)
            let padding = try s.int("padding", default: size - 1, in: 0...Limits.kernel)
            for key in ["maxpool_depth", "antialiasing", "stride_x", "stride_y", "out_channels"] where s.options[key] != nil {
                if key.hasPrefix("stride_"), Int(s.options[key]!.value) == stride { continue }
                if let v = Int(s.options[key]!.value), v == 0, !key.hasPrefix("stride_") { continue }
                throw s.unsupported(s.options[key]!.line, "'\(key)'")
            }
            guard previous.height + padding >= size, previous.width + padding >= size else {
                throw s.invalid(s.line, "a \(size)x\(size) window does not fit the \(previous) input")
            }
            // A window made only of padding would give -inf; Darknet never builds one (padding < size).
            guard padding / 2 < size, padding - padding / 2 < size else { throw s.invalid(s.line, "padding \(padding) leaves windows with no input") }
            output = DarknetLayer.Shape(height: (previous.height + padding - size) / stride + 1,
                                        width: (previous.width + padding - size) / stride + 1, channels: previous.channels)
            kind = .maxpool(.init(size: size, stride: stride, padding: padding))

        case "route":
            guard let (values, line) = try s.ints("layers", in: -Limits.layers...Limits.layers), !values.isEmpty else {
                throw s.invalid(s.line, "missing 'layers'")
            }
            let layers = try values.map { try reference($0, s, line: line, key: "layers") }
            let groups = try s.int("groups", default: 1, in: 1...Limits.channels)
            let groupID = try s.int("group_id", default: 0, in: 0...(groups - 1))
            let first = earlier[layers[0]].output
            var channels = 0
            for l in layers {
                let o = earlier[l].output
                guard o.height == first.height, o.width == first.width else {
                    throw s.invalid(line, "layer \(l) is \(o), layer \(layers[0]) is \(first): sizes differ")
                }
                channels += o.channels
            }
            guard channels % groups == 0 else { throw s.invalid(s.line, "groups=\(groups) does not divide \(channels) channels") }
            output = DarknetLayer.Shape(height: first.height, width: first.width, channels: channels / groups)
            kind = .route(.init(layers: layers, groups: groups, groupID: groupID))

        case "upsample":
            let stride = try s.int("stride", default: 2, in: 1...Limits.stride)
            if let (text, line) = s.options["scale"], Float(text) != 1 { throw s.unsupported(line, "'scale'") }
            output = DarknetLayer.Shape(height: previous.height * stride, width: previous.width * stride, channels: previous.channels)
            kind = .upsample(stride: stride)

        case "shortcut":
            guard let (values, line) = try s.ints("from", in: -Limits.layers...Limits.layers, maxCount: 1), values.count == 1 else {
                throw s.invalid(s.line, "missing 'from'")
            }
            let from = try reference(values[0], s, line: line, key: "from")
            if let (text, line) = s.options["weights_type"], text != "none" { throw s.unsupported(line, "'weights_type'") }
            guard earlier[from].output == previous else {
                throw s.invalid(line, "layer \(from) is \(earlier[from].output), the previous layer \(previous): a shortcut adds equal shapes")
            }
            kind = .shortcut(from: from, activation: try activation(s))

        case "yolo":
            let classes = try s.int("classes", default: 20, in: 1...100_000)
            let num = try s.int("num", default: 1, in: 1...1024)
            let mask = try s.ints("mask", in: 0...(num - 1))?.values ?? Array(0..<num)
            guard !mask.isEmpty else { throw s.invalid(s.line, "empty 'mask'") }
            var anchors: [Float] = []
            if let (text, line) = s.options["anchors"] {
                for p in text.split(separator: ",").map({ String($0).trimmingSpaces }) {
                    guard let v = Float(p), v.isFinite, v > 0 else { throw s.invalid(line, "anchor '\(p.prefix(20))' is not a positive number") }
                    anchors.append(v)
                }
                guard anchors.count == 2 * num else {
                    throw s.invalid(line, "\(anchors.count) anchor values for num=\(num) (needs \(2 * num))")
                }
            } else {
                throw s.invalid(s.line, "missing 'anchors'")
            }
            if let (text, line) = s.options["new_coords"], Int(text) != 0 { throw s.unsupported(line, "'new_coords'") }
            let needed = mask.count * (classes + 5)
            guard previous.channels == needed else {
                throw s.invalid(s.line, "input has \(previous.channels) channels; \(mask.count) anchors x (5 + \(classes) classes) needs \(needed)")
            }
            kind = .yolo(.init(mask: mask, anchors: anchors, classes: classes, scaleXY: try s.float("scale_x_y", default: 1)))

        default:
            throw s.unsupported(s.line, "section [\(s.type.prefix(40))]")
        }
        return DarknetLayer(index: s.layerIndex, line: s.line, kind: kind, output: try checked(output, s))
    }
}

extension DarknetConfig {
    /// The same network for `classes` classes: every `[yolo]` layer's class count and the
    /// `[convolutional]` that feeds it (`anchors * (5 + classes)` filters) change; nothing else.
    /// Returns the new config and the indices of the changed convolutions (the new heads).
    public func withClasses(_ classes: Int) throws -> (config: DarknetConfig, heads: [Int]) {
        var layers = self.layers
        var heads: [Int] = []
        for (i, layer) in layers.enumerated() {
            guard case var .yolo(head) = layer.kind else { continue }
            guard i > 0, case var .convolutional(c) = layers[i - 1].kind else {
                throw DarknetConfigError.invalid(file: file, section: "[yolo] (layer \(i))", line: layer.line,
                                                 reason: "does not follow a [convolutional], so its head cannot be replaced")
            }
            guard (1...100_000).contains(classes) else {
                throw DarknetConfigError.invalid(file: file, section: "[yolo] (layer \(i))", line: layer.line, reason: "\(classes) classes")
            }
            c.filters = head.mask.count * (5 + classes)
            head.classes = classes
            let prev = layers[i - 1], shape = DarknetLayer.Shape(height: prev.output.height, width: prev.output.width, channels: c.filters)
            layers[i - 1] = DarknetLayer(index: prev.index, line: prev.line, kind: .convolutional(c), output: shape)
            layers[i] = DarknetLayer(index: layer.index, line: layer.line, kind: .yolo(head), output: shape)
            heads.append(i - 1)
        }
        return (DarknetConfig(file: file, input: input, layers: layers), heads)
    }
}
