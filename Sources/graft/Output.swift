import ArgumentParser
import Foundation
import GraftHeads
import GraftTransfer

// The CLI's enumerated options (CLIEnums.swift) as the job path's values.

extension FeaturePooling: ExpressibleByArgument {}

extension HeadOption {
    var kind: HeadKind { self == .logreg ? .logisticRegression : .linearSVM }
}

extension OptimizerOption {
    var kind: TrainingOptions.OptimizerKind { self == .sgd ? .sgd : .adamw }
}

extension ScheduleOption {
    var kind: TrainingOptions.ScheduleKind {
        switch self {
        case .cosine: .cosine
        case .oneCycle: .oneCycle
        case .constant: .constant
        }
    }
}

extension StrategyList {
    /// The job path's strategies, fine-tuning the last `unfreeze` blocks.
    func strategies(unfreeze: Int) -> [Strategy] {
        strategies.compactMap { Strategy(shortName: $0.rawValue, unfreeze: unfreeze) }
    }
}
