import Foundation
import GraftData

/// How images become an imported graph's input, which an ONNX file does not record: a built-in recipe
/// by name, or a JSON file. `{"size": 224, "resize": 256, "crop": "center"|"stretch"|"fraction",
/// "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}` (mean/std on 0...1 values), or
/// `"subtract"`/`"divide"` on 0...255 values, or `"scale": "unit"` (x / 255).
public enum OnnxPreprocessing {
    public static let recipes = ["imagenet", "efficientnet-lite0", "efficientnet-lite1"]

    struct File: Decodable {
        var size: Int
        var resize: Int?
        var crop: String?
        var mean: [Float]?
        var std: [Float]?
        var subtract: Float?
        var divide: Float?
        var scale: String?
    }

    /// `recipe`: a name of `recipes` or a JSON file path. `inputSize`: the graph's fixed input side, if any
    /// (a named recipe runs at it).
    public static func resolve(_ recipe: String, inputSize: Int?) throws -> Preprocessing {
        switch recipe {
        case "imagenet": return .imageNet(inputSize: inputSize ?? 224)
        case "efficientnet-lite0": return .efficientNetLite(inputSize: inputSize ?? 224)
        case "efficientnet-lite1": return .efficientNetLite(inputSize: inputSize ?? 240)
        default: break
        }
        guard recipe.hasSuffix(".json") else {
            throw ModelError.invalidConfig("unknown preprocessing '\(recipe)': one of \(recipes.joined(separator: ", ")) or a .json file")
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: recipe)) } catch {
            throw ModelError.invalidConfig("\(recipe): cannot read preprocessing: \(error.localizedDescription)")
        }
        let f: File
        do { f = try JSONDecoder().decode(File.self, from: data) } catch {
            throw ModelError.invalidConfig("\(recipe): not a preprocessing file (size, resize, crop, mean/std or subtract/divide): \(error)")
        }
        guard f.size > 0, f.size <= 4096 else { throw ModelError.invalidConfig("\(recipe): size \(f.size) is not in 1...4096") }
        let normalization: Normalization
        if let mean = f.mean, let std = f.std {
            guard [1, 3].contains(mean.count), [1, 3].contains(std.count), !std.contains(0) else {
                throw ModelError.invalidConfig("\(recipe): mean and std need 1 or 3 values, std non-zero")
            }
            normalization = .meanStd(mean: mean, std: std)
        } else if let s = f.subtract, let d = f.divide, d != 0 {
            normalization = .affine(subtract: s, divide: d)
        } else if f.scale == "unit" {
            normalization = .unit
        } else {
            throw ModelError.invalidConfig("\(recipe): give mean and std, subtract and divide, or \"scale\": \"unit\"")
        }
        let crop: Preprocessing.Crop
        switch f.crop ?? "center" {
        case "center": crop = .center
        case "stretch": crop = .stretch
        case "fraction": crop = .centerFraction(padding: 32)
        case let other: throw ModelError.invalidConfig("\(recipe): crop '\(other)' is not center, stretch or fraction")
        }
        return Preprocessing(inputSize: f.size, resizeShorterTo: f.resize, crop: crop, normalization: normalization)
    }
}
