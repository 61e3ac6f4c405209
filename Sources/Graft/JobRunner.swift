import Foundation
import GraftData
import GraftTransfer

/// How every task-first API type trains: one `TransferJob` (the job path the CLI runs) in a work folder
/// of its own, of which only the bundle stays, owned by the model that loads it.
enum JobRunner {
    static func run(source: DataSource, task: any TransferTask, parameters p: Parameters,
                    context: TrainingJobContext) throws -> (bundle: URL, work: URL, result: JobResult) {
        let work = (p.workingDirectory ?? FileManager.default.temporaryDirectory)
            .appendingPathComponent("graft-job-\(UUID().uuidString)")
        var options = JobOptions(workDirectory: work)
        options.validation = p.validation
        options.testCount = 0
        options.seed = p.seed
        options.batchSize = p.batchSize
        options.training = p.trainingOverrides
        options.bundle = work.appendingPathComponent("bundle")
        let job = TransferJob(data: source, backbone: p.backbone, task: task, strategy: p.strategy, options: options)
        do {
            let result = try job.run(progress: context.handler, isCancelled: context.isCancelled)
            try context.checkCancellation()
            context.report(TrainingProgress(phase: .saving))
            for item in (try? FileManager.default.contentsOfDirectory(atPath: work.path)) ?? [] where item != "bundle" {
                try? FileManager.default.removeItem(at: work.appendingPathComponent(item))
            }
            return (work.appendingPathComponent("bundle"), work, result)
        } catch {
            try? FileManager.default.removeItem(at: work)
            throw error
        }
    }

    /// Trains a regression or multi-label model: the data resolved to a source and task, the backbone
    /// checked against its input, the bundle loaded as the model's core; the validation metrics if any.
    static func trainTask(_ resolve: () throws -> (source: DataSource, task: any TransferTask, input: DataKind), kind: TaskKind,
                          parameters: Parameters, context: TrainingJobContext) throws -> (ClassifierCore, TaskMetrics?) {
        context.report(TrainingProgress(phase: .preparing))
        try parameters.validate()
        let (source, task, input) = try resolve()
        if let backbone = parameters.backbone, backbone.input != input {
            throw GraftError.wrongBackbone(task: "\(input.rawValue) \(kind.rawValue) model", backbone: backbone.description)
        }
        // The job path fits these tasks' feature heads from a feature store (`graft extract` + `graft fit`);
        // in memory, "feature extraction" trains the new head alone on the frozen network (`--unfreeze 0`).
        var p = parameters
        if case .featureExtraction = p.strategy { p.strategy = .fineTune(unfreeze: 0) }
        let (bundle, work, result) = try run(source: source, task: task, parameters: p, context: context)
        do {
            return (try ClassifierCore(bundle: bundle, input: input, task: kind, owning: work), result.validationMetrics)
        } catch {
            try? FileManager.default.removeItem(at: work)
            throw error
        }
    }
}
