import GraftData
import GraftHeads
import GraftModels
import GraftTensor
import GraftText
import GraftTransfer
/// Errors of the task-first API that the lower layers do not already name.
public enum GraftError: Error, CustomStringConvertible, Equatable {
    /// The data holds images where texts are needed, or the reverse.
    case wrongKind(task: String, data: String)
    /// A backbone that cannot serve this task (a text model for images, ...).
    case wrongBackbone(task: String, backbone: String)
    /// `labels` and the inputs they label differ in length.
    case labelCount(inputs: Int, labels: Int)
    /// Parameters that cannot work together, with the reason.
    case invalidParameters(String)
    /// A file that could not be written or copied.
    case write(path: String, reason: String)

    public var description: String {
        switch self {
        case let .wrongKind(task, data): return "\(task) needs \(task.hasPrefix("image") ? "images" : "texts"), but the data holds \(data)"
        case let .wrongBackbone(task, backbone): return "\(backbone) cannot be the backbone of a \(task)"
        case let .labelCount(inputs, labels): return "\(inputs) inputs but \(labels) labels"
        case let .invalidParameters(why): return "invalid parameters: \(why)"
        case let .write(path, why): return "cannot write \(path): \(why)"
        }
    }
}
