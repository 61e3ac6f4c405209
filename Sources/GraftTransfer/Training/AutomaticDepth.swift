import GraftData

/// `--unfreeze auto`: how many blocks fine-tuning trains, from the number of training items and the input kind.
///
/// Issue 21's measurements (docs/RESULTS.md, docs/TRANSFER.md): below these sizes no fine-tune beat LP-FT's
/// probe on validation (Fashion-MNIST up to 300 images per class, 3,000 items: 9 runs with the last 2 blocks,
/// plus 0 and 5 blocks at 300; Rotten Tomatoes at 100 reviews per class, 200 items: 3 runs), so the probe was the
/// result whatever trained; with the new head alone the job returns the same model at a quarter less time per
/// step and a third of the memory (bench/RESULTS.md, "Fine-tuning"). From there on the last 2 blocks train: they
/// beat the probe at 10,000 images (3 of 3 seeds; 5 blocks no better) and 2,000 reviews (2 of 4 runs).
public enum AutomaticDepth {
    /// Training items from which the trunk's last blocks train, by input kind.
    public static func threshold(for input: DataKind) -> Int { input == .text ? 1_000 : 5_000 }

    /// Blocks to unfreeze for `trainingItems` items of `input`.
    public static func blocks(trainingItems: Int, input: DataKind) -> Int {
        trainingItems < threshold(for: input) ? 0 : 2
    }
}
