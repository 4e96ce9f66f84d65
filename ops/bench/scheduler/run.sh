#!/usr/bin/env bash
# Scheduler benchmark (issue 5):
#   1. submissions/s: `docketctl submit --file` with N URLs (default 100,000) into an empty, migrated database;
#   2. review requests/s: docket-scheduler with 64 in flight draining those N QUEUED reviews to helpdesk-sim
#      (until every row is PENDING_REVIEW).
# Runs its own Postgres (fsync on unless BENCH_FSYNC=off) on a free port under a temp dir, and stops everything
# it started on exit. Binaries come from BIN (default .build/release, then .build/debug).
#
#   ops/bench/scheduler/run.sh            # 100,000 URLs, 64 in flight
#   N=20000 IN_FLIGHT=128 ops/bench/scheduler/run.sh
set -euo pipefail

N=${N:-100000}
IN_FLIGHT=${IN_FLIGHT:-64}
BENCH_FSYNC=${BENCH_FSYNC:-on}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
if [[ -z "${BIN:-}" ]]; then
  if [[ -x "$ROOT/.build/release/docket-scheduler" ]]; then BIN="$ROOT/.build/release"; else BIN="$ROOT/.build/debug"; fi
fi
for product in docketctl docket-scheduler helpdesk-sim; do
  [[ -x "$BIN/$product" ]] || { echo "missing $BIN/$product: run swift build -c release first" >&2; exit 2; }
done
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

WORK=$(mktemp -d /tmp/docket-bench-scheduler.XXXXXX)
PIDS=()
PG_STARTED=0
as_postgres() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ $PG_STARTED == 1 ]]; then as_postgres "$PGBIN/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }

# --- Postgres -------------------------------------------------------------------------------------------------
[[ $(id -u) == 0 ]] && chown postgres "$WORK"
PG_PORT=$(free_port)
as_postgres "$PGBIN/initdb" -D "$WORK/pg" -U postgres -A trust -E UTF8 >/dev/null
as_postgres "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w \
  -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $WORK -c fsync=$BENCH_FSYNC -c max_connections=100" start >/dev/null
PG_STARTED=1
ADMIN="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
psql -X -q -d "$ADMIN" -c "CREATE DATABASE bench" >/dev/null
DB="postgresql://postgres@127.0.0.1:$PG_PORT/bench"
"$BIN/docketctl" migrate --database-url "$DB" >/dev/null
count() { psql -X -At -d "$DB" -c "SELECT count(*) FROM document_reviews WHERE document_status = '$1'"; }

# --- 1. submissions/s -----------------------------------------------------------------------------------------
seq 1 "$N" | sed 's|^|https://docs.example.com/bench/|; s|$|.pdf|' > "$WORK/urls.txt"
start=$(now)
"$BIN/docketctl" submit --database-url "$DB" --file "$WORK/urls.txt" > "$WORK/ids.txt"
end=$(now)
submitted=$(wc -l < "$WORK/ids.txt")
submit_s=$(echo "$end - $start" | bc -l)
printf 'submit:   %d URLs in %.2f s = %.0f submissions/s (fsync=%s)\n' "$submitted" "$submit_s" "$(echo "$submitted / $submit_s" | bc -l)" "$BENCH_FSYNC"

# --- 2. review requests/s -------------------------------------------------------------------------------------
SIM_PORT=$(free_port)
DOCKET_WEBHOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw "$BIN/helpdesk-sim" --port "$SIM_PORT" --delay-ms 86400000 \
  --log-level warning > "$WORK/sim.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$SIM_PORT/livez" >/dev/null && break; sleep 0.1; done
start=$(now)
"$BIN/docket-scheduler" --database-url "$DB" --helpdesk-url "http://127.0.0.1:$SIM_PORT" --max-in-flight "$IN_FLIGHT" \
  --metrics-port 0 --log-level warning > "$WORK/scheduler.log" 2>&1 &
PIDS+=($!)
while :; do
  left=$(count QUEUED)
  [[ $left == 0 ]] && break
  sleep 0.25
done
end=$(now)
pending=$(count PENDING_REVIEW)
drain_s=$(echo "$end - $start" | bc -l)
printf 'requests: %d reviews requested in %.2f s = %.0f requests/s (%d in flight, scheduler start included)\n' \
  "$pending" "$drain_s" "$(echo "$pending / $drain_s" | bc -l)" "$IN_FLIGHT"
reviewed=$(curl -fs "http://127.0.0.1:$SIM_PORT/documents" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d), max(x["requests"] for x in d))')
echo "helpdesk-sim: reviews, max requests per review = $reviewed"
