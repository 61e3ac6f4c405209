import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import GraftText
import GraftTransfer
/// Random transforms applied to training images (network strategies only:
/// feature extraction sees each image once, as it is).
public struct AugmentationOptions: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// torchvision's `RandomResizedCrop`, keeping 60-100% of the area.
    public static let randomResizedCrop = AugmentationOptions(rawValue: 1 << 0)
    /// Mirror left to right half of the time.
    public static let horizontalFlip = AugmentationOptions(rawValue: 1 << 1)
    /// Brightness, contrast and saturation jitter of +-10%.
    public static let colorJitter = AugmentationOptions(rawValue: 1 << 2)

    /// Crop and jitter also for small images. Without it, images whose shorter side is at most a third
    /// of the network's input (28x28 clothing for a 224 network) train with the flip only, as `graft
    /// finetune --augment auto` does (`TrainingOptions.adaptsAugmentationToInput`).
    public static let evenOnSmallImages = AugmentationOptions(rawValue: 1 << 3)

    /// All three.
    public static let standard: AugmentationOptions = [.randomResizedCrop, .horizontalFlip, .colorJitter]
}
