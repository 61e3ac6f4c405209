#!/usr/bin/env bash
# WordPiece tokenizer throughput, Graft vs Hugging Face tokenizers (fast Rust and slow Python),
# in one run, on Rotten Tomatoes reviews and French words; also checks that the ids agree.
# Rates are texts per CPU second (process CPU time, all threads), as the cores are shared.
# Usage: bash bench/text/run.sh   (GRAFT_THREADS=N: threads for the HF fast batch path)
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS="${GRAFT_THREADS:-$(nproc)}"
PYTHON="${PYTHON:-/root/.venvs/fixtures/bin/python}"
SCRATCH="${SCRATCH:-.build-text}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

swift build --package-path bench -c release --scratch-path "$SCRATCH" --product graft-bench-text >&2
BIN="$(swift build --package-path bench -c release --scratch-path "$SCRATCH" --show-bin-path)/graft-bench-text"

"$PYTHON" bench/text/peer.py prepare "$WORK"
GRAFT_OUT="$("$BIN" "$WORK")"
PEER_OUT="$("$PYTHON" bench/text/peer.py run "$WORK" "$THREADS")"
CHECK_OUT="$("$PYTHON" bench/text/peer.py check "$WORK")"

"$PYTHON" - "$GRAFT_OUT" "$PEER_OUT" "$CHECK_OUT" <<'PY'
import sys
def rows(text, tag="row"):
    out, notes = {}, []
    for line in text.splitlines():
        parts = line.split("\t")
        if line.startswith("#"):
            notes.append(line[2:])
        elif parts[0] == tag:
            out[parts[1]] = float(parts[2])
    return out, notes
graft, notes = rows(sys.argv[1])
peers = {tag: rows(sys.argv[2], tag)[0] for tag in ("rust", "fast", "slow")}
for n in notes:
    print("Graft:", n)
for line in sys.argv[3].splitlines():
    _, name, total, bad = line.split("\t")
    print(f"ids equal to HF fast on {name}: {int(total) - int(bad)}/{total}")
print("texts per CPU second, all threads (ratio = Graft / peer); rust = tokenizers.Tokenizer, fast = transformers BertTokenizer, slow = BertTokenizerLegacy")
print(f"| {'corpus / mode':<30} | {'Graft':>7} | {'rust':>7} | {'ratio':>5} | {'fast':>7} | {'ratio':>5} | {'slow':>6} | {'ratio':>5} |")
print(f"|{'-'*32}|{'-'*9}|{'-'*9}|{'-'*7}|{'-'*9}|{'-'*7}|{'-'*8}|{'-'*7}|")
for name, g in graft.items():
    cells = []
    for tag, width in (("rust", 7), ("fast", 7), ("slow", 6)):
        p = peers[tag].get(name)
        cells.append(f"{p:>{width}.0f} | {g / p:>5.1f}" if p else f"{'':>{width}} | {'':>5}")
    print(f"| {name:<30} | {g:>7.0f} | " + " | ".join(cells) + " |")
PY
