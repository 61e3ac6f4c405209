import ArgumentParser
import Foundation
import GraftData
import GraftTransfer

/// `--task` and its targets for the commands that train networks (`graft finetune`, `graft train`):
/// regression reads values from a targets file, multi-label reads label lists, both matched to the
/// data's items by id (docs/TASKS.md).
struct TaskArguments: ParsableArguments {
    @Option(help: "What the model predicts: classification (the data's labels), regression (numbers from --targets), multi-label (label sets from --labels) or detect (boxes: --data a YOLO folder, a COCO JSON or the built-in 'faces').")
    var task: TaskKind = .classification
    @Option(help: "Regression: CSV or JSONL file of numeric targets, matched to the data's items by its id, path or text-row column (docs/TASKS.md).")
    var targets: String?
    @Option(name: .customLong("target"), help: "Regression: a target column of --targets (repeat for several; default: target).")
    var targetColumns: [String] = []
    @Option(help: "Regression: the loss, mse or huber (delta 1 on standardised targets).") var loss: RegressionLoss?
    @Option(help: "Multi-label: CSV or JSONL file of label lists (`a|b` in CSV, a list in JSONL), matched to the data's items like --targets.")
    var labels: String?
    @Option(name: .customLong("label-column"), help: "Multi-label: the column of --labels holding the lists.") var labelColumn = "labels"
    @Option(name: .customLong("label-names"), help: "Multi-label: the label names, comma separated; default: every label in --labels, sorted.")
    var labelNames: String?
    @Option(name: .customLong("input-size"), help: "Detection: the square input side the detector trains and runs at (default: its cfg's, 416).")
    var inputSize: Int?

    func validate() throws {
        guard inputSize == nil || task == .detection else { throw ValidationError("--input-size goes with --task detect") }
        if let inputSize, !(32...2048).contains(inputSize) || inputSize % 32 != 0 {
            throw ValidationError("--input-size must be a multiple of 32 in 32...2048 (YOLO's stride), not \(inputSize)")
        }
        switch task {
        case .classification:
            guard targets == nil, targetColumns.isEmpty, loss == nil, labels == nil, labelNames == nil else {
                throw ValidationError("--targets, --target and --loss go with --task regression; --labels and --label-names with --task multi-label")
            }
        case .regression:
            guard targets != nil else { throw ValidationError("--task regression needs --targets FILE") }
            guard labels == nil, labelNames == nil else { throw ValidationError("--labels and --label-names go with --task multi-label") }
        case .multiLabel:
            guard labels != nil else { throw ValidationError("--task multi-label needs --labels FILE") }
            guard targets == nil, targetColumns.isEmpty, loss == nil else { throw ValidationError("--targets, --target and --loss go with --task regression") }
        case .detection:
            guard targets == nil, targetColumns.isEmpty, loss == nil, labels == nil, labelNames == nil else {
                throw ValidationError("--targets, --target, --loss, --labels and --label-names do not go with --task detect (boxes come with the data)")
            }
        }
    }

    /// The data named by --data (and --validation-data, --test-data): detection sets for --task detect.
    func source(_ data: String, validation: String?, test: String?) throws -> DataSource {
        task == .detection ? try DataSource.detection(data, validation: validation, test: test)
            : try DataSource.resolve(data, validation: validation, test: test)
    }

    /// The task, and the data with each item's targets attached.
    func resolve(_ data: DataSource) throws -> (task: any TransferTask, data: DataSource) {
        switch task {
        case .classification:
            return (ClassificationTask(), data)
        case .regression:
            let file = try RegressionTargets(contentsOf: URL(fileURLWithPath: targets!), columns: targetColumns.isEmpty ? ["target"] : targetColumns)
            return (RegressionTask(targets: file.names, loss: loss ?? .mse), try data.with(regression: file))
        case .multiLabel:
            let names = labelNames.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            let file = try MultiLabelTargets(contentsOf: URL(fileURLWithPath: labels!), column: labelColumn, names: names)
            return (MultiLabelTask(labels: file.names), try data.with(multiLabel: file))
        case .detection:
            return (DetectionTask(classNames: data.classNames, inputSize: inputSize), data)
        }
    }
}

extension String {
    /// Right-aligned in `width` columns (table headers).
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
extension RegressionLoss: ExpressibleByArgument {}
