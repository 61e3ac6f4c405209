#!/usr/bin/env bash
# SIGTERM with requests in flight: starts `graft serve` (release build), fires N concurrent
# predictions, sends SIGTERM while they run, and checks that every one got 200 and that the
# server exited with status 0; a request sent after the signal must be refused.
#
# usage: bench/serve/check_sigterm.sh   (env: N=12, PORT=18090, SCRATCH=.build-serve)
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${N:-12}"; PORT="${PORT:-18090}"; SCRATCH="${SCRATCH:-.build-serve}"
PY="${PY:-/root/.venvs/fixtures/bin/python}"
export GRAFT_HOME="${GRAFT_HOME:-$HOME/.cache/graft}"
BIN="$SCRATCH/release"
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
"$BIN/graft-bench-serve" "$WORK/lite0.bundle" >/dev/null
"$PY" -c "from PIL import Image; Image.open('$GRAFT_HOME/packages/scikit-image/skimage/data/chelsea.png').convert('RGB').save('$WORK/cat.jpg')"

# One request per input so N of them are queued behind each other.
"$BIN/graft" serve --bundle "$WORK/lite0.bundle" --port "$PORT" --max-batch 1 2>"$WORK/log" &
pid=$!
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
for i in $(seq 1 "$N"); do
  curl -s -o "$WORK/r$i.json" -w '%{http_code}\n' -H 'Content-Type: image/jpeg' --data-binary @"$WORK/cat.jpg" \
    "http://127.0.0.1:$PORT/v1/predict" >"$WORK/s$i" &
done
sleep 0.3
queued=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^graft_queue_inputs/ {print $2}')
kill -TERM "$pid"
sleep 0.2
late=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz" || true)
status=0; wait "$pid" || status=$?
wait
ok=$(cat "$WORK"/s* | grep -c '^200$' || true)
echo "queued at SIGTERM: $queued; answered 200: $ok of $N; request after SIGTERM: ${late:-refused}; exit status: $status"
tail -2 "$WORK/log"
[ "$ok" = "$N" ] && [ "$status" = 0 ] && [ "$late" = "000" ]
