// libFuzzer entry point for the GraftWeights readers. Compiled together with the library's
// sources into one module (see run.sh), so it can call the internal readers directly.
// A reader may return a value or throw a WeightsError; anything else (a trap, an
// out-of-bounds access caught by ASan, an allocation over -malloc_limit_mb) is a bug.

@_cdecl("LLVMFuzzerTestOneInput")
public func graftWeightsFuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let storage = ByteStorage(copying: UnsafeRawBufferPointer(start: data, count: size))
    #if FUZZ_PICKLE
    if TorchLegacyReader.looksLike(storage) {
        _ = try? TorchLegacyReader.read(storage, file: "fuzz")
    } else {
        _ = try? PlainPickleReader.read(storage, file: "fuzz")
    }
    #elseif FUZZ_SAFETENSORS
    _ = try? SafetensorsReader.read(storage, file: "fuzz")
    #else
    _ = try? WeightFile.read(storage, file: "fuzz", fileExtension: size > 0 && data[0] == 0x08 ? "onnx" : "")
    #endif
    return 0
}
