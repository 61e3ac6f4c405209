import GraftData

/// How many labelled examples are held out to validate training: early stopping and the
/// best epoch of network strategies, and the validation metrics of every strategy.
public enum ValidationSplit: Sendable, Hashable, Codable {
    /// This fraction of each class (rounded).
    case fraction(Double)
    /// This many examples of each class.
    case perClass(Int)
    /// Train on everything; no early stopping, no validation metrics.
    case none
    /// Scaled with the data (the default): per class a fifth of what the class trains on (`perClass`
    /// or all it has), at least 10 and at most 250 but never more than a third of the class, so the best epoch is chosen on a split that can tell
    /// epochs apart at 1,000 examples per class and stays cheap to score at 60,000.
    case auto

    /// `auto`'s count for a class of `classSize` items of which `training` train (few-shot: fewer).
    public static func autoCount(training: Int, classSize: Int) -> Int {
        let scaled = min(250, max(10, Int((Double(training) * 0.2).rounded())))
        return min(scaled, max(1, classSize / 3))   // a small class keeps two thirds for training
    }
}

/// Which items train, validate and test, drawn once with a seed so every strategy of a job
/// (and of a comparison) sees the same examples.
///
/// The rules, the same in every command and the API, so a tiny data set never ends with an
/// empty training split:
/// - test: the official or `--test-data` set when there is one; else a stratified part of the data,
///   `testCount` items but at most half of it (a fifth under 500 items);
/// - validation: the `--validation-data` set when there is one; else per class the requested number
///   (or fraction; by default `ValidationSplit.auto`: a fifth of the class's training size, 10 to 250),
///   but at most half of what the class has left and never its last item;
/// - training: the rest, or `perClass` of it (few-shot).
public struct ExperimentSplit: Sendable, Equatable, Codable {
    public var train: [Int]
    public var validation: [Int]
    /// Indices into `DataSource.testSet`.
    public var test: [Int]
    public var testFromOfficialSet: Bool

    /// One line for people: what was held out.
    public var summary: String {
        "\(train.count) train, \(validation.count) validation, \(test.count) test" + (testFromOfficialSet ? " (separate test set)" : " (held out)")
    }

    public static func make(_ data: DataSource, perClass: Int?, validationPerClass: Int = 10, testCount: Int = 2000,
                            seed: UInt64 = 0) throws -> ExperimentSplit {
        try make(data, perClass: perClass, validation: .perClass(validationPerClass), testCount: testCount, seed: seed)
    }

    public static func make(_ data: DataSource, perClass: Int?, validation policy: ValidationSplit, testCount: Int,
                            seed: UInt64 = 0) throws -> ExperimentSplit {
        let labels = data.train.labels
        guard !labels.isEmpty else { throw TransferError.emptyData("data set \(data.name) has no items") }
        // Detection data's labels are strata, not classes: one class of objects (faces) is a task, and a class may lie in no first box.
        if data.train.labelsAreClasses {
            let counts = data.train.classCounts
            if let empty = counts.firstIndex(of: 0) { throw TransferError.emptyData("class '\(data.classNames[empty])' of \(data.name) has no examples") }
            guard counts.count >= 2 else { throw TransferError.singleClass("\(data.name) has only the class '\(data.classNames.first ?? "")'") }
        }
        var pool = Array(0..<labels.count)
        var test: [Int] = []
        var official = false
        if let t = data.test {
            official = true
            let perClassTest = max(1, testCount / max(t.classNames.count, 1))
            test = testCount > 0 ? Splitter.sample(perClass: perClassTest, labels: t.labels, seed: seed &+ 1) : []
        } else if testCount > 0 {
            // No test set: hold out a stratified part of the data first (stratified keeps one item per class).
            let fraction = min(labels.count < 500 ? 0.2 : 0.5, Double(testCount) / Double(labels.count))
            let s = Splitter.stratified(labels: labels, validation: 0, test: fraction, seed: seed &+ 1)
            test = s.test
            pool = s.train
        }
        var validation: [Int] = []
        if let v = data.validation {
            validation = Array(labels.count..<(labels.count + v.count))
        } else {
            var members = [Int: [Int]]()
            for i in pool { members[labels[i], default: []].append(i) }
            for (_, items) in members.sorted(by: { $0.key < $1.key }) {
                let requested: Int
                switch policy {
                case let .perClass(n): requested = n
                case let .fraction(f): requested = Int((Double(items.count) * f).rounded())
                case .none: requested = 0
                case .auto: requested = ValidationSplit.autoCount(training: perClass.map { min($0, items.count) } ?? items.count,
                                                                  classSize: items.count)
                }
                let cap = min(items.count - 1, max(1, items.count / 2))
                let n = max(0, min(requested, cap))
                // Each class draws from its own seeded stream, so per-class calls equal one joint call.
                if n > 0 { validation += Splitter.sample(perClass: n, labels: labels, from: items, seed: seed &+ 2) }
            }
            validation.sort()
        }
        let held = Set(validation)
        let rest = pool.filter { !held.contains($0) }
        let train = perClass.map { Splitter.sample(perClass: $0, labels: labels, from: rest, seed: seed &+ 3) } ?? rest
        guard !train.isEmpty else { throw TransferError.emptyData("no training items left in \(data.name) after holding out validation and test items") }
        return ExperimentSplit(train: train, validation: validation, test: test, testFromOfficialSet: official)
    }
}

extension ExperimentSplit {
    /// Sizes of the three parts, for reports and JSON.
    public struct Counts: Codable, Sendable, Equatable {
        public var train: Int, validation: Int, test: Int
        public var testFromSeparateSet: Bool
    }
    public var counts: Counts {
        Counts(train: train.count, validation: validation.count, test: test.count, testFromSeparateSet: testFromOfficialSet)
    }
}
