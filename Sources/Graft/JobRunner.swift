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
}
