#!/usr/bin/env bash
# Graft as a user's project meets it: a fresh package outside the repository depends on it by version,
# `.package(url: "file://<clone>", from: "<tag>")`, trains an ImageClassifier (EfficientNet-Lite0
# features + logistic regression, so the C and oneDNN kernels run) on 30 digits, predicts, builds and runs.
# SwiftPM refuses a versioned dependency whose products use unsafe flags: this is the check that none do.
#
# It checks the committed HEAD (a clone; uncommitted changes are not in it), tagged with the version in
# Sources/graft/Version.swift (the tag lives only in the throwaway clone). The build is the library
# chain under `Graft` in a scratch folder of its own: measured 11 min 41 s wall, 686 s of it the build
# (4 min of CPU), on the shared 2-core machine at load average 7-10; so `make test` does not run it
# (`make consumer-check` does). Needs what `make setup` installs (libraries, EfficientNet-Lite0).
# Usage: scripts/consumer-check.sh   Env: WORK (kept when given; default a temporary folder, removed),
#        CONFIG (release).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
CONFIG="${CONFIG:-release}"
TAG="$(sed -n 's/.*static let current = "\([^"]*\)".*/\1/p' Sources/graft/Version.swift)"
[ -n "$TAG" ] || { echo "consumer-check: no version in Sources/graft/Version.swift" >&2; exit 1; }
if [ -n "${WORK:-}" ]; then mkdir -p "$WORK"; else WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT; fi
COMMIT="$(git rev-parse HEAD)"

rm -rf "$WORK/graft" "$WORK/consumer"
git clone -q --no-checkout "$ROOT" "$WORK/graft"
git -C "$WORK/graft" checkout -q --detach "$COMMIT"
# The release tag as the lead would push it (-f: a clone of a repository that already has it).
git -C "$WORK/graft" -c user.name=consumer-check -c user.email=consumer-check@localhost \
    tag -f -a "$TAG" -m "Graft $TAG" "$COMMIT" >/dev/null

mkdir -p "$WORK/consumer/Sources/Consumer"
cat > "$WORK/consumer/Package.swift" <<EOF
// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Consumer",
    platforms: [.macOS(.v15)],
    dependencies: [.package(url: "file://$WORK/graft", from: "$TAG")],
    targets: [.executableTarget(name: "Consumer", dependencies: [.product(name: "Graft", package: "graft")])]
)
EOF
cat > "$WORK/consumer/Sources/Consumer/main.swift" <<'EOF'
import Foundation
import Graft

// Digits 0, 1 and 7, ten of each (scikit-learn's 8x8 digits, installed by Graft's setup).
let digits = try BuiltinDatasets.digits()
let picked = Array((0..<digits.count).filter { ["0", "1", "7"].contains(digits.classNames[digits.label(at: $0)]) }.prefix(30))
let labels = picked.map { digits.classNames[digits.label(at: $0)] }
let images = picked.map(digits.image(at:))
let job = ImageClassifier.train(data: .images(images, labels: labels), parameters: Parameters(maxEpochs: 1, batchSize: 8))
let classifier = try await job.result
let predictions = try classifier.predict(images: images, top: 1).map { $0[0].label }
let correct = zip(predictions, labels).filter { $0 == $1 }.count
print("consumer: classes \(classifier.classNames), \(correct)/\(labels.count) training images predicted right")
guard Set(classifier.classNames) == ["0", "1", "7"], correct >= labels.count * 2 / 3 else { exit(1) }
EOF

start=$SECONDS
(cd "$WORK/consumer" && swift build -c "$CONFIG" >&2)
echo "consumer-check: built in $((SECONDS - start)) s" >&2
(cd "$WORK/consumer" && "$(swift build -c "$CONFIG" --show-bin-path)/Consumer")
resolved="$(python3 -c 'import json,sys; p=[p for p in json.load(open(sys.argv[1]))["pins"] if p["identity"]=="graft"][0]["state"]; print(p.get("version"), p["revision"])' "$WORK/consumer/Package.resolved")"
echo "consumer-check: Graft $TAG resolved by version ($resolved), built and ran"
