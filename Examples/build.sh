#!/usr/bin/env bash
# Builds the examples package (it depends on Graft by path, so this is a full
# build of Graft too). Usage: Examples/build.sh [debug|release]
set -euo pipefail
cd "$(dirname "$0")"
swift build -c "${1:-release}"
echo "built: $(swift build -c "${1:-release}" --show-bin-path)/{ImageClassifierExample,TextClassifierExample}"
