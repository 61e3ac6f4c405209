#!/usr/bin/env bash
# Regenerates Sources/GraftWeights/ONNX/Generated/onnx.pb.swift from the official onnx.proto.
# The generated file is committed (building swift-protobuf's plugin on every CI run costs ~10 minutes);
# run this only to move to a newer onnx.proto. Needs protoc (Debian `protobuf-compiler`), a Python
# with the `onnx` wheel (for its onnx.proto) and swift-protobuf's protoc-gen-swift at the version
# Package.swift depends on (built here from the mirrored package).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/root/.venvs/fixtures/bin/python}
SWIFT_PROTOBUF_VERSION=${SWIFT_PROTOBUF_VERSION:-1.39.0}
command -v protoc >/dev/null || { echo "protoc missing: apt-get install protobuf-compiler" >&2; exit 1; }
PROTO_DIR=$("$PYTHON" -c 'import onnx, os; print(os.path.dirname(onnx.__file__))')
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
git clone -q https://github.com/apple/swift-protobuf "$WORK/swift-protobuf"
git -C "$WORK/swift-protobuf" checkout -q "$SWIFT_PROTOBUF_VERSION"
(cd "$WORK/swift-protobuf" && swift build -c release --product protoc-gen-swift >/dev/null)
cp "$PROTO_DIR/onnx.proto" "$WORK/onnx.proto"
OUT=Sources/GraftWeights/ONNX/Generated
mkdir -p "$OUT"
protoc --plugin=protoc-gen-swift="$WORK/swift-protobuf/.build/release/protoc-gen-swift" \
  --swift_opt=Visibility=Public --swift_out="$WORK" -I "$WORK" "$WORK/onnx.proto"
mv "$WORK/onnx.pb.swift" "$OUT/onnx.pb.swift"
echo "wrote $OUT/onnx.pb.swift from onnx $("$PYTHON" -c 'import onnx; print(onnx.__version__)')'s onnx.proto, protoc $(protoc --version | cut -d" " -f2), swift-protobuf $SWIFT_PROTOBUF_VERSION"
