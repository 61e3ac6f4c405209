import GraftHeads

/// How a pretrained backbone becomes a model for a task. The one strategy
/// value of the Swift API, the CLI, the bundle manifest and every JSON output.
public enum Strategy: Hashable, Sendable, CustomStringConvertible {
    /// The backbone is frozen; its features at a cut point feed a linear model
    /// (`C` chosen by cross-validation when nil). Fast; best for tens of examples per class.
    case featureExtraction(head: HeadKind = .logisticRegression, C: Double? = nil)
    /// A new head plus the last `unfreeze` blocks (EfficientNet blocks, ResNet
    /// stages, BERT layers; nil: every block) train by gradient descent (LP-FT).
    case fineTune(unfreeze: Int? = 2)
    /// The baseline without transfer: random initial weights, everything trains.
    case fromScratch
    /// SetFit's few-shot recipe: every block of the backbone is tuned on pairs of the labelled items with a
    /// cosine-similarity loss (`ContrastiveTuning`), then logistic regression is fitted on the tuned
    /// embeddings and becomes the network's head. Classification only.
    case contrastive(ContrastiveOptions = ContrastiveOptions())

    /// The three families, as bundles and JSON name them.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case featureExtraction = "feature-extraction"
        case fineTune = "fine-tune"
        case fromScratch = "from-scratch"
        case contrastive
    }

    public var kind: Kind {
        switch self {
        case .featureExtraction: .featureExtraction
        case .fineTune: .fineTune
        case .fromScratch: .fromScratch
        case .contrastive: .contrastive
        }
    }

    /// Whether a network trains (fine-tuning, from scratch) rather than a head on stored features.
    public var trainsNetwork: Bool { kind != .featureExtraction }

    /// The short name the CLI's `--strategies` uses: scratch, logreg, svm, prototype, knn, finetune, contrastive.
    public var shortName: String {
        switch self {
        case let .featureExtraction(head, _): head.rawValue
        case .fineTune: "finetune"
        case .fromScratch: "scratch"
        case .contrastive: "contrastive"
        }
    }

    /// A row label for tables: "features + logistic regression", "fine-tune", "from scratch".
    public var title: String {
        switch self {
        case let .featureExtraction(head, _): "features + " + head.title
        case .fineTune: "fine-tune"
        case .fromScratch: "from scratch"
        case .contrastive: "contrastive (SetFit) + logistic regression"
        }
    }

    public var description: String {
        switch self {
        case let .featureExtraction(head, C): "feature-extraction(\(head.rawValue)\(C.map { ", C=\($0)" } ?? ""))"
        case let .fineTune(k): "fine-tune(last \(k.map(String.init) ?? "all"))"
        case .fromScratch: "from-scratch"
        case let .contrastive(o): "contrastive(\(o.iterations) iterations, \(o.epochs) epochs, lr \(o.learningRate))"
        }
    }

    /// Parses a CLI short name (`scratch`, `logreg`, `svm`, `prototype`, `knn`, `finetune`, `contrastive`; `heads` is
    /// fine-tuning with nothing unfrozen but the new head).
    public init?(shortName: String, unfreeze: Int? = 2, contrastive: ContrastiveOptions = ContrastiveOptions()) {
        switch shortName {
        case "scratch": self = .fromScratch
        case "logreg": self = .featureExtraction(head: .logisticRegression)
        case "svm": self = .featureExtraction(head: .linearSVM)
        case "prototype": self = .featureExtraction(head: .prototype)
        case "knn": self = .featureExtraction(head: .nearestNeighbors)
        case "finetune": self = .fineTune(unfreeze: unfreeze)
        case "heads": self = .fineTune(unfreeze: 0)   // only the new head trains (detection's "heads only")
        case "contrastive": self = .contrastive(contrastive)
        default: return nil
        }
    }

    public static let shortNames = ["scratch", "logreg", "svm", "prototype", "knn", "finetune", "heads", "contrastive"]
}

extension Strategy: Codable {
    private enum Keys: String, CodingKey { case kind, head, C, unfreeze }

    /// `{"kind": "feature-extraction", "head": "logreg", "C": 0.1}`, `{"kind": "fine-tune", "unfreeze": 2}`,
    /// `{"kind": "from-scratch"}`, `{"kind": "contrastive", "iterations": 20, "epochs": 1, ...}`; the plain strings of graft-bundle/1 decode too.
    public init(from decoder: Decoder) throws {
        if let legacy = try? decoder.singleValueContainer().decode(String.self) {
            guard let kind = Kind(rawValue: legacy) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown strategy '\(legacy)'"))
            }
            switch kind {
            case .featureExtraction: self = .featureExtraction()
            case .fineTune: self = .fineTune(unfreeze: nil)
            case .fromScratch: self = .fromScratch
            case .contrastive: self = .contrastive()
            }
            return
        }
        let c = try decoder.container(keyedBy: Keys.self)
        switch try c.decode(Kind.self, forKey: .kind) {
        case .featureExtraction:
            self = .featureExtraction(head: try c.decodeIfPresent(HeadKind.self, forKey: .head) ?? .logisticRegression,
                                      C: try c.decodeIfPresent(Double.self, forKey: .C))
        case .fineTune: self = .fineTune(unfreeze: try c.decodeIfPresent(Int.self, forKey: .unfreeze))
        case .fromScratch: self = .fromScratch
        case .contrastive: self = .contrastive(try ContrastiveOptions(from: decoder))   // its keys sit beside "kind"
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(kind, forKey: .kind)
        switch self {
        case let .featureExtraction(head, C):
            try c.encode(head, forKey: .head)
            try c.encodeIfPresent(C, forKey: .C)
        case let .fineTune(k): try c.encodeIfPresent(k, forKey: .unfreeze)
        case .fromScratch: break
        case let .contrastive(o): try o.encode(to: encoder)
        }
    }
}

extension HeadKind {
    /// How tables name the head: "logistic regression", "linear SVM", "class prototypes", "k nearest neighbours".
    public var title: String {
        switch self {
        case .logisticRegression: "logistic regression"
        case .linearSVM: "linear SVM"
        case .prototype: "class prototypes"
        case .nearestNeighbors: "k nearest neighbours"
        case .ridge: "ridge regression"
        case .oneVsRest: "one-vs-rest logistic regression"
        }
    }
}
