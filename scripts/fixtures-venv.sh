#!/usr/bin/env bash
# Developer-only: the Python environment that generates reference fixtures and runs peer benchmarks.
# Graft itself never needs it. torch comes from the local wheel folder pip is configured with.
set -euo pipefail
VENV="${GRAFT_FIXTURES_VENV:-$HOME/.venvs/fixtures}"
[ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import torch, transformers, sklearn, onnxruntime, cv2" 2>/dev/null && exit 0
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --no-deps "$(ls /opt/wheels/torch-*+cpu-*.whl | head -1)"
"$VENV/bin/pip" install -q numpy safetensors pillow scikit-learn scipy transformers sentence-transformers \
  onnx onnxruntime "opencv-python-headless<5" typing_extensions sympy networkx jinja2 fsspec filelock efficientnet-lite-pytorch==0.1.0
