import GraftCore
import Foundation

/// Settings of mini-batch training over chunked data.
public struct StreamingOptions: Sendable {
    /// Passes over the data.
    public var epochs = 10
    /// Rows per Adam step.
    public var batchSize = 256
    /// Adam's initial step size; it decays linearly to 0 over the run.
    public var learningRate = 0.01
    /// Chunks loaded and shuffled together, so a store written class by class still gives mixed
    /// batches. Memory holds this many chunks at once.
    public var chunksPerPool = 4
    /// Rows kept (a uniform reservoir sample) to choose C by cross-validation when it is not given.
    public var crossValidationSampleSize = 20_000

    public init(epochs: Int = 10, batchSize: Int = 256, learningRate: Double = 0.01) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
    }
}

extension LogisticRegression {
    /// Fits the same objective as `fit` by mini-batch Adam over chunks that are loaded one pool at a
    /// time, for data that does not fit in memory. A first pass collects the classes, the
    /// standardisation statistics and (when C is not given) a reservoir sample on which C is chosen
    /// by cross-validation; then `epochs` passes visit the chunks in a seeded shuffled order, and a
    /// last pass computes the objective. Reads the source `epochs + 2` times.
    ///
    /// Stochastic training stops near, not at, the optimum: expect the objective within about 1% of
    /// L-BFGS's and the same accuracy to within a point (docs/HEADS.md).
    public func fitStreaming(_ source: some FeatureChunkSource,
                             streaming: StreamingOptions = StreamingOptions()) throws(HeadsError) -> HeadFit {
        let started = Date()
        try validate()
        guard streaming.epochs >= 1, streaming.batchSize >= 1, streaming.chunksPerPool >= 1,
              streaming.learningRate > 0, streaming.learningRate.isFinite
        else { throw .invalidOption(name: "StreamingOptions", reason: "epochs, batchSize, chunksPerPool and learningRate must be positive") }
        let d = source.featureCount
        guard d > 0, source.chunkCount > 0 else { throw .emptyData(what: "feature chunks") }

        // Pass 1: classes, counts, standardisation statistics, reservoir sample.
        var counts = [Int: Int]()
        var statistics = StandardizationAccumulator(featureCount: d)
        var generator = SeededGenerator(seed: options.seed)
        let wantSample = options.C == nil
        var sampleRows = [[Float]](), sampleLabels = [Int]()
        var seen = 0
        for index in 0 ..< source.chunkCount {
            let chunk = try loadChunk(source, index)
            for l in chunk.labels { counts[l, default: 0] += 1 }
            if options.standardize { try statistics.add(chunk.features) }
            if wantSample {
                for r in 0 ..< chunk.features.rows {
                    seen += 1
                    if sampleRows.count < streaming.crossValidationSampleSize {
                        sampleRows.append(Array(chunk.features.row(r)))
                        sampleLabels.append(chunk.labels[r])
                    } else {
                        let slot = Int.random(in: 0 ..< seen, using: &generator)
                        if slot < sampleRows.count {
                            sampleRows[slot] = Array(chunk.features.row(r))
                            sampleLabels[slot] = chunk.labels[r]
                        }
                    }
                }
            }
        }
        let classes = counts.keys.sorted()
        let n = counts.values.reduce(0, +)
        guard n > 0 else { throw .emptyData(what: "feature chunks (0 rows)") }
        guard classes.count >= 2 else { throw .singleClass(label: classes.first ?? 0, rows: n) }
        let k = classes.count
        var classIndex = [Int: Int]()
        for (i, c) in classes.enumerated() { classIndex[c] = i }
        let classWeight: [Double]
        switch options.classWeighting {
        case .uniform: classWeight = [Double](repeating: 1, count: k)
        case .balanced: classWeight = classes.map { Double(n) / (Double(k) * Double(counts[$0] ?? 1)) }
        case let .custom(table): classWeight = classes.map { table[$0] ?? 1 }
        }
        let weightSum = classes.enumerated().reduce(0.0) { $0 + Double(counts[$1.element] ?? 0) * classWeight[$1.offset] }
        let standardization = options.standardize ? try statistics.finish() : nil

        var crossValidation: CrossValidationResult?
        let C: Double
        if let given = options.C {
            C = given
        } else {
            let sample = try FeatureMatrix(sampleRows)
            sampleRows = []
            let result = try crossValidate(sample, labels: sampleLabels)
            crossValidation = result
            C = result.chosenC
        }
        let lambda = 1 / ((k == 2 ? C / 2 : C) * weightSum)

        // Adam over shuffled pools of chunks.
        var trainer = AdamSoftmaxTrainer(classes: k, features: d, lambda: lambda, fitIntercept: options.fitIntercept,
                                         learningRate: streaming.learningRate)
        let batchesPerEpoch = (n + streaming.batchSize - 1) / streaming.batchSize
        let totalSteps = Double(streaming.epochs * batchesPerEpoch)
        let gradientScale = Float(Double(n) / weightSum)
        for _ in 0 ..< streaming.epochs {
            var order = Array(0 ..< source.chunkCount)
            order.shuffle(using: &generator)
            for poolStart in stride(from: 0, to: order.count, by: streaming.chunksPerPool) {
                var pool = try loadPool(source, Array(order[poolStart ..< min(poolStart + streaming.chunksPerPool, order.count)]),
                                        classIndex: classIndex, generator: &generator)
                if let standardization { try standardization.apply(inPlace: &pool.features) }
                let rowWeights = pool.classes.map { Float(classWeight[Int($0)]) }
                for start in stride(from: 0, to: pool.features.rows, by: streaming.batchSize) {
                    let rows = min(streaming.batchSize, pool.features.rows - start)
                    let progress = Double(trainer.steps) / totalSteps
                    try trainer.step(pool.features, start: start, rows: rows, classes: pool.classes,
                                     rowWeights: rowWeights, gradientScale: gradientScale,
                                     learningRate: streaming.learningRate * max(1 - progress, 0.01))
                }
            }
        }

        // One last pass for the exact objective of the final weights.
        var loss = 0.0
        for index in 0 ..< source.chunkCount {
            var chunk = try loadChunk(source, index)
            if let standardization { try standardization.apply(inPlace: &chunk.features) }
            let encoded = chunk.labels.map { Int32(classIndex[$0] ?? 0) }
            loss += try trainer.weightedLoss(chunk.features, classes: encoded,
                                             rowWeights: encoded.map { Float(classWeight[Int($0)]) })
        }
        let objective = loss / weightSum + 0.5 * lambda * trainer.weightNormSquared
        let head = try LinearHead(kind: .logisticRegression, classes: classes, featureCount: d,
                                  weights: trainer.weights, bias: trainer.bias,
                                  standardization: standardization, C: C)
        if head.weights.contains(where: { !$0.isFinite }) {
            throw .invalidOption(name: "learningRate", reason: "training diverged (non-finite weights); lower it")
        }
        let summary = TrainingSummary(iterations: streaming.epochs, objective: objective, stop: .epochsCompleted,
                                      seconds: Date().timeIntervalSince(started), C: C,
                                      crossValidation: crossValidation)
        return HeadFit(head: head, summary: summary)
    }

    private func loadChunk(_ source: some FeatureChunkSource, _ index: Int) throws(HeadsError) -> LabeledChunk {
        let chunk: LabeledChunk
        do {
            chunk = try source.chunk(at: index)
        } catch let error as HeadsError {
            throw error
        } catch {
            throw .chunkSource(index: index, reason: "\(error)")
        }
        guard chunk.features.columns == source.featureCount || chunk.features.rows == 0 else {
            throw .chunkSource(index: index, reason: "has \(chunk.features.columns) features, expected \(source.featureCount)")
        }
        guard chunk.labels.count == chunk.features.rows else {
            throw .chunkSource(index: index, reason: "\(chunk.features.rows) rows but \(chunk.labels.count) labels")
        }
        if let bad = chunk.features.firstNonFinite() {
            throw .nonFiniteFeature(what: "feature chunk \(index)", row: bad.row, column: bad.column)
        }
        return chunk
    }

    /// Loads chunks and lays their rows out in a random order.
    private func loadPool(_ source: some FeatureChunkSource, _ indices: [Int], classIndex: [Int: Int],
                          generator: inout SeededGenerator) throws(HeadsError) -> (features: FeatureMatrix, classes: [Int32]) {
        var chunks = [LabeledChunk]()
        for index in indices { chunks.append(try loadChunk(source, index)) }
        let d = source.featureCount
        let total = chunks.reduce(0) { $0 + $1.features.rows }
        var destination = Array(0 ..< total)
        destination.shuffle(using: &generator)
        var values = [Float](repeating: 0, count: total * d)
        var classes = [Int32](repeating: 0, count: total)
        var next = 0
        for chunk in chunks {
            chunk.features.values.withUnsafeBufferPointer { src in
                values.withUnsafeMutableBufferPointer { dst in
                    for r in 0 ..< chunk.features.rows {
                        let to = destination[next]
                        (dst.baseAddress! + to * d).update(from: src.baseAddress! + r * d, count: d)
                        classes[to] = Int32(classIndex[chunk.labels[r]] ?? 0)
                        next += 1
                    }
                }
            }
        }
        return (try FeatureMatrix(rows: total, columns: d, values: values), classes)
    }
}

/// Adam on the multinomial loss, one mini-batch at a time.
struct AdamSoftmaxTrainer {
    let k: Int, d: Int
    let lambda: Double
    let fitIntercept: Bool
    private(set) var weights: [Float]
    private(set) var bias: [Float]
    private var m: [Float], v: [Float]
    private var gradient: [Float]
    private var logits: [Float] = []
    private(set) var steps = 0
    private let beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8

    init(classes k: Int, features d: Int, lambda: Double, fitIntercept: Bool, learningRate: Double) {
        self.k = k
        self.d = d
        self.lambda = lambda
        self.fitIntercept = fitIntercept
        weights = [Float](repeating: 0, count: k * d)
        bias = [Float](repeating: 0, count: k)
        m = [Float](repeating: 0, count: k * d + k)
        v = m
        gradient = m
    }

    var weightNormSquared: Double { dot(weights, weights) }

    /// Logits of `rows` rows starting at `start`, into `logits`.
    private mutating func forward(_ x: FeatureMatrix, start: Int, rows: Int) throws(HeadsError) {
        let (k, d) = (self.k, self.d)
        if logits.count < rows * k { logits = [Float](repeating: 0, count: rows * k) }
        try x.values.withUnsafeBufferPointer { (xv) throws(HeadsError) in
            try weights.withUnsafeBufferPointer { (w) throws(HeadsError) in
                try logits.withUnsafeMutableBufferPointer { (z) throws(HeadsError) in
                    try Sgemm.multiply(transposeA: false, transposeB: true, m: rows, n: k, k: d,
                                       a: xv.baseAddress! + start * d, lda: d, b: w.baseAddress!, ldb: d,
                                       c: z.baseAddress!, ldc: k)
                    for i in 0..<rows { for c in 0..<k { z[i * k + c] += bias[c] } }
                }
            }
        }
    }

    /// One Adam step on the batch `x[start ..< start + rows]`. `gradientScale / rows` times the
    /// weighted batch gradient estimates the gradient of the average over all rows.
    mutating func step(_ x: FeatureMatrix, start: Int, rows: Int, classes: [Int32], rowWeights: [Float],
                       gradientScale: Float, learningRate: Double) throws(HeadsError) {
        let (k, d) = (self.k, self.d)
        try forward(x, start: start, rows: rows)
        let scale = gradientScale / Float(rows)
        for i in 0..<rows {
            let row = start + i
            var top = -Float.infinity
            for c in 0..<k { top = max(top, logits[i * k + c]) }
            var sum: Float = 0
            for c in 0..<k { let e = Foundation.exp(logits[i * k + c] - top); logits[i * k + c] = e; sum += e }
            let s = rowWeights[row] * scale
            for c in 0..<k { logits[i * k + c] *= s / sum }
            logits[i * k + Int(classes[row])] -= s
        }
        try logits.withUnsafeBufferPointer { (g) throws(HeadsError) in
            try x.values.withUnsafeBufferPointer { (xv) throws(HeadsError) in
                try gradient.withUnsafeMutableBufferPointer { (out) throws(HeadsError) in
                    try Sgemm.multiply(transposeA: true, transposeB: false, m: k, n: d, k: rows,
                                       a: g.baseAddress!, lda: k, b: xv.baseAddress! + start * d, ldb: d,
                                       c: out.baseAddress!, ldc: d)
                }
            }
        }
        for c in 0..<k {
            var sum: Float = 0
            for i in 0..<rows { sum += logits[i * k + c] }
            gradient[k * d + c] = fitIntercept ? sum : 0
        }
        let lambdaF = Float(lambda)
        for i in 0 ..< k * d { gradient[i] += lambdaF * weights[i] }
        steps += 1
        let correction1 = 1 - Foundation.pow(beta1, Float(steps))
        let correction2 = 1 - Foundation.pow(beta2, Float(steps))
        let rate = Float(learningRate) * correction2.squareRoot() / correction1
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        for i in 0 ..< gradient.count {
            let g = gradient[i]
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            let update = rate * m[i] / (v[i].squareRoot() + eps)
            if i < k * d { weights[i] -= update } else { bias[i - k * d] -= update }
        }
    }

    /// `sum_i s_i logloss_i` over a chunk.
    mutating func weightedLoss(_ x: FeatureMatrix, classes: [Int32], rowWeights: [Float]) throws(HeadsError) -> Double {
        if x.rows == 0 { return 0 }
        try forward(x, start: 0, rows: x.rows)
        var loss = 0.0
        for i in 0 ..< x.rows {
            var top = -Float.infinity
            for c in 0..<k { top = max(top, logits[i * k + c]) }
            var sum: Float = 0
            for c in 0..<k { sum += Foundation.exp(logits[i * k + c] - top) }
            loss += Double(rowWeights[i]) * (Double(top) + Double(Foundation.log(sum)) - Double(logits[i * k + Int(classes[i])]))
        }
        return loss
    }
}
