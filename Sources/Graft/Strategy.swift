/// How a pretrained backbone becomes a classifier for your labels.
public enum Strategy: Sendable, Hashable {
    /// The backbone is frozen; its features feed a linear model whose
    /// regularisation is chosen by 5-fold cross-validation. Fast, and the best
    /// choice for tens of examples per class.
    case featureExtraction(head: Head = .logisticRegression)
    /// A new classifier head plus the last `unfreezing` blocks (EfficientNet
    /// blocks, BERT layers) train by gradient descent; the rest stays frozen.
    case fineTune(unfreezing: Int)
    /// The baseline without transfer: a small CNN (images) or the backbone's
    /// architecture with random weights (text), trained end to end.
    case fromScratch

    /// The linear model of feature extraction.
    public enum Head: String, Sendable, Hashable, CaseIterable {
        /// Multinomial logistic regression (L-BFGS): calibrated probabilities.
        case logisticRegression
        /// Linear SVM (dual coordinate descent): scores are a softmax of its margins.
        case linearSVM
    }
}
