/// Token ids for a batch of texts, padded to the longest sequence in the batch, row-major
/// `[batch, length]` as BERT encoders take them.
public struct TokenBatch: Sendable, Equatable {
    /// `[batch * length]` token ids; padding positions hold the `[PAD]` id.
    public var ids: [Int32]
    /// `[batch * length]`: 1 for real tokens (including `[CLS]`/`[SEP]`), 0 for padding.
    public var attentionMask: [Int32]
    /// `[batch * length]`: segment ids, all 0 for single sentences.
    public var tokenTypeIds: [Int32]
    /// Number of texts.
    public var batch: Int
    /// Padded sequence length (the longest sequence in the batch).
    public var length: Int
    /// Unpadded length of each sequence.
    public var lengths: [Int]

    public init(ids: [Int32], attentionMask: [Int32], tokenTypeIds: [Int32], batch: Int, length: Int,
                lengths: [Int]) {
        self.ids = ids
        self.attentionMask = attentionMask
        self.tokenTypeIds = tokenTypeIds
        self.batch = batch
        self.length = length
        self.lengths = lengths
    }

    /// Pads `sequences` on the right with `padID` to the longest one.
    public init(padding sequences: [[Int32]], padID: Int32) {
        let length = sequences.map(\.count).max() ?? 0
        let total = sequences.count * length
        // One write per element (no zero-fill first): the rows, then their padding.
        let ids = [Int32](unsafeUninitializedCapacity: total) { buffer, count in
            guard let start = buffer.baseAddress else { count = 0; return }
            for (row, sequence) in sequences.enumerated() {
                let base = start + row * length
                sequence.withUnsafeBufferPointer { source in
                    if let from = source.baseAddress { base.initialize(from: from, count: source.count) }
                }
                (base + sequence.count).initialize(repeating: padID, count: length - sequence.count)
            }
            count = total
        }
        let mask = [Int32](unsafeUninitializedCapacity: total) { buffer, count in
            guard let start = buffer.baseAddress else { count = 0; return }
            for (row, sequence) in sequences.enumerated() {
                let base = start + row * length
                base.initialize(repeating: 1, count: sequence.count)
                (base + sequence.count).initialize(repeating: 0, count: length - sequence.count)
            }
            count = total
        }
        self.init(ids: ids, attentionMask: mask, tokenTypeIds: [Int32](repeating: 0, count: total),
                  batch: sequences.count, length: length, lengths: sequences.map(\.count))
    }

    /// The unpadded ids of row `index`.
    public func sequence(_ index: Int) -> ArraySlice<Int32> {
        ids[(index * length)..<(index * length + lengths[index])]
    }
}
