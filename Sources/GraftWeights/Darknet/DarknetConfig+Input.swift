/// The same network at another input size: what a detector fine-tuned at 160 or 256 pixels runs at.
extension DarknetConfig {
    /// This cfg with a `width` x `height` input: every layer's output shape worked out again (same
    /// rules as parsing; a route's parts must still agree, a kernel must still fit), and the `[yolo]`
    /// anchors scaled by the size ratio so each anchor keeps its size relative to the image.
    public func withInput(width: Int, height: Int) throws -> DarknetConfig {
        guard (1...Limits.side).contains(width), (1...Limits.side).contains(height) else {
            throw DarknetConfigError.invalid(file: file, section: "[net]", line: 1, reason: "input \(width)x\(height) is outside 1...\(Limits.side)")
        }
        let newInput = DarknetLayer.Shape(height: height, width: width, channels: input.channels)
        let sx = Float(width) / Float(input.width), sy = Float(height) / Float(input.height)
        var layers: [DarknetLayer] = []
        for layer in self.layers {
            let previous = layers.last?.output ?? newInput
            func fail(_ reason: String) -> DarknetConfigError {
                .invalid(file: file, section: "[\(layer.typeName)] (layer \(layer.index))", line: layer.line, reason: reason + " at input \(width)x\(height)")
            }
            var kind = layer.kind
            let output: DarknetLayer.Shape
            switch layer.kind {
            case let .convolutional(c):
                guard previous.height + 2 * c.padding >= c.size, previous.width + 2 * c.padding >= c.size else { throw fail("the kernel does not fit") }
                output = .init(height: (previous.height + 2 * c.padding - c.size) / c.stride + 1,
                               width: (previous.width + 2 * c.padding - c.size) / c.stride + 1, channels: c.filters)
            case let .maxpool(p):
                guard previous.height + p.padding >= p.size, previous.width + p.padding >= p.size else { throw fail("the pool does not fit") }
                output = .init(height: (previous.height + p.padding - p.size) / p.stride + 1,
                               width: (previous.width + p.padding - p.size) / p.stride + 1, channels: previous.channels)
            case let .route(r):
                let parts = r.layers.map { layers[$0].output }
                guard let first = parts.first, parts.allSatisfy({ $0.height == first.height && $0.width == first.width }) else {
                    throw fail("routed maps differ in size")
                }
                output = .init(height: first.height, width: first.width, channels: parts.reduce(0) { $0 + $1.channels } / r.groups)
            case let .upsample(stride):
                output = .init(height: previous.height * stride, width: previous.width * stride, channels: previous.channels)
            case let .shortcut(from, _):
                guard layers[from].output == previous else { throw fail("a shortcut adds maps of different sizes") }
                output = previous
            case var .yolo(head):
                head.anchors = head.anchors.enumerated().map { $0.offset % 2 == 0 ? $0.element * sx : $0.element * sy }
                kind = .yolo(head)
                output = previous
            }
            guard output.height >= 1, output.width >= 1 else { throw fail("the map is empty") }
            layers.append(DarknetLayer(index: layer.index, line: layer.line, kind: kind, output: output))
        }
        return DarknetConfig(file: file, input: newInput, layers: layers)
    }
}
