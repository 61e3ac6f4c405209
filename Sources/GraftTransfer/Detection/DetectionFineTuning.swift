import Foundation
import GraftModels
import GraftNN
import GraftTensor

/// Transfer for detection: a pretrained Darknet network with new heads for new classes, its trunk
/// frozen (or its last K convolutions trainable), trained with `YoloLoss`.
public final class DetectionFineTuning: @unchecked Sendable {  // unchecked: trains in the one task that owns it (optimizer state and parameters mutate there only)
    public let network: DarknetNetwork
    /// Layer indices of the new head convolutions.
    public let heads: [Int]
    public let loss: YoloLoss
    public let optimizer: AdamW
    /// Layer indices whose parameters train (the heads plus the last `unfreeze` other convolutions).
    public let trainable: [Int]

    /// `unfreeze` = 0 trains the heads only; K > 0 also the K convolutions closest to the output.
    public init(pretrained: DarknetNetwork, classes: Int, unfreeze: Int = 0, learningRate: Float = 1e-3, seed: UInt64 = 0) throws {
        let (network, heads) = try pretrained.withNewHeads(classes: classes, seed: seed)
        self.network = network
        self.heads = heads
        loss = YoloLoss(network: network)
        network.freeze()
        let others = network.units.keys.filter { !heads.contains($0) }.sorted()
        trainable = (heads + others.suffix(max(0, unfreeze))).sorted()
        for i in trainable { network.units[i]!.unfreeze() }
        let parameters = trainable.flatMap { network.units[$0]!.namedParameters().map(\.1) }
        optimizer = AdamW([ParameterGroup(parameters)], learningRate: learningRate)
    }

    /// One optimisation step on a batch of letterboxed inputs [N, H, W, 3] and their objects.
    @discardableResult
    public func step(_ input: Tensor, targets: [[DetectionTarget]]) throws -> YoloLoss.Parts {
        network.zeroGrad()
        let parts = try loss(network.forward(input, training: true), targets: targets)
        try parts.total.backward()
        try optimizer.step()
        return parts
    }
}
