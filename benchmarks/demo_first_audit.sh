#!/usr/bin/env bash
# How long a new user waits for the demo's first questions: `make demo`'s two steps on a fresh DATA_DIR, with one
# core kept busy by another process (a laptop doing something else), timed until the first audit ends.
#
#   bash benchmarks/demo_first_audit.sh                      # the demo's size: 3 folds × 12 epochs
#   FOLDS=5 EPOCHS=45 bash benchmarks/demo_first_audit.sh    # the size audits started later take
#   BUSY=0 bash benchmarks/demo_first_audit.sh               # an idle machine
#   TRAIN_THREADS=0 bash benchmarks/demo_first_audit.sh      # PyTorch's own thread count (one per core)
set -u
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/demo-first-audit-XXXX)
export DEMO=1 DATA_DIR="$work" PORT="${PORT:-8765}" TRAIN_THREADS="${TRAIN_THREADS:-1}"  # as `make demo` sets it
.venv/bin/python manage.py setup_demo --clips "${CLIPS:-300}" --url "http://127.0.0.1:$PORT/" > "$work/setup.log" 2>&1
burner=""
if [ "${BUSY:-1}" = 1 ]; then
  timeout 3600 python3 -c "while True: pass" &
  burner=$!
fi
started=$(date +%s)
.venv/bin/python manage.py run_local --host 127.0.0.1 --port "$PORT" --audit demo \
  --audit-folds "${FOLDS:-3}" --audit-epochs "${EPOCHS:-12}" > "$work/run_local.log" 2>&1 &
server=$!
# However this ends: the busy process and run_local's processes go (run_local stops them on TERM; a background job
# ignores INT).
trap 'kill -TERM "$server" 2>/dev/null; wait "$server" 2>/dev/null; [ -n "$burner" ] && kill "$burner" 2>/dev/null' EXIT
while sleep 5; do
  if ! kill -0 "$server" 2>/dev/null; then echo "run_local stopped early: see $work/run_local.log"; exit 1; fi
  status=$(.venv/bin/python manage.py runs demo 2>&1 | head -2)
  if echo "$status" | grep -q "succeeded\|failed"; then break; fi
  if [ $(( $(date +%s) - started )) -gt 3000 ]; then echo "gave up after 50 min"; break; fi
done
echo "first audit over $(( $(date +%s) - started )) s after run_local started; $(nproc) CPUs, busy core: ${BUSY:-1}, TRAIN_THREADS=$TRAIN_THREADS"
echo "$status"
echo "clock warnings in the workers' log: $(grep -c 'clocks are out of sync' "$work/run_local.log")"
rm -rf "$work"
