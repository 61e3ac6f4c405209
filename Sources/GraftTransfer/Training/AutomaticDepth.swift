import GraftData

/// `--unfreeze auto`: how many blocks fine-tuning trains, from the number of training items, the input kind and
/// the backbone's depth.
///
/// Issue 21's measurements (docs/RESULTS.md, docs/TRANSFER.md): below these sizes no fine-tune beat LP-FT's
/// probe on validation (Fashion-MNIST up to 300 images per class, 3,000 items: 9 runs with the last 2 blocks,
/// plus 0 and 5 blocks at 300; Rotten Tomatoes up to 100 reviews per class, 200 items: 6 runs), so the probe was
/// the result whatever trained; with the new head alone the job returns the same model for less time per step
/// and memory (bench/RESULTS.md, "Fine-tuning"). Above them the trunk trains: at 10,000 Fashion-MNIST images the
/// last 5 of EfficientNet-Lite0's 18 blocks reached 0.9150 on test against 0.8938 +- 0.0031 with 2 (3 seeds), at
/// 2,000 reviews MiniLM's last 2 of 6 layers beat the probe in 2 of 5 runs. Shallower image networks (ResNet's 6
/// stages, where 5 would be nearly all of it) keep the last 2.
public enum AutomaticDepth {
    /// Training items from which the trunk's last blocks train, by input kind.
    public static func threshold(for input: DataKind) -> Int { input == .text ? 1_000 : 5_000 }

    /// Blocks to unfreeze for `trainingItems` items of `input` on a backbone of `blockCount` blocks.
    public static func blocks(trainingItems: Int, input: DataKind, blockCount: Int) -> Int {
        guard trainingItems >= threshold(for: input) else { return 0 }
        return input == .image && blockCount >= 12 ? 5 : min(2, blockCount)
    }
}
