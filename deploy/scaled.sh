#!/usr/bin/env bash
# Aisle on several processes behind one address: PostgreSQL, a Chroma server and N `aisle run`
# workers that share conversations, rate limits and the shop secret. docs/deployment.md explains it.
#
#   deploy/scaled.sh                      # demo shop, 2 workers, a local PostgreSQL cluster
#   WORKERS=4 AISLE_DATABASE_URL=postgresql+psycopg://aisle@db:5432/aisle deploy/scaled.sh
#
# Every process it starts is stopped by its own PID when the script exits (Ctrl-C).
set -euo pipefail

BIN=${BIN:-.venv/bin}
WORKERS=${WORKERS:-2}
DATA=${AISLE_DATA_DIR:-$PWD/.aisle-scaled}
PORT=${AISLE_PORT:-7860}
CHROMA_PORT=${AISLE_CHROMA_PORT:-8765}
mkdir -p "$DATA"
DATA=$(cd "$DATA" && pwd)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

wait_port() {  # wait_port PORT NAME LOG
  for _ in $(seq 1 150); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  echo "$2 did not start on port $1; see $3" >&2
  exit 1
}

# 1. PostgreSQL: the one given, else a throwaway cluster under $DATA/pg (needs the server binaries).
if [ -z "${AISLE_DATABASE_URL:-}" ]; then
  PG_BIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1)")
  [ -x "$PG_BIN/initdb" ] || { echo "set AISLE_DATABASE_URL, or install postgresql" >&2; exit 1; }
  AS=(); [ "$(id -u)" = 0 ] && AS=(runuser -u postgres --)  # initdb refuses to run as root
  PG_PORT=${PG_PORT:-55432}
  if [ ! -f "$DATA/pg/PG_VERSION" ]; then
    mkdir -p "$DATA/pg"; [ ${#AS[@]} -gt 0 ] && chown postgres "$DATA/pg"
    "${AS[@]}" "$PG_BIN/initdb" -D "$DATA/pg" -A trust -U aisle >/dev/null
  fi
  "${AS[@]}" "$PG_BIN/postgres" -D "$DATA/pg" -p "$PG_PORT" -c listen_addresses=127.0.0.1 \
    -k "$DATA/pg" >"$DATA/postgres.log" 2>&1 &
  pids+=($!)
  wait_port "$PG_PORT" PostgreSQL "$DATA/postgres.log"
  export AISLE_DATABASE_URL="postgresql+psycopg://aisle@127.0.0.1:$PG_PORT/postgres"
fi

# 2. The Chroma server every worker reads the vector indexes from.
"$BIN/chroma" run --path "$DATA/chroma-server" --host 127.0.0.1 --port "$CHROMA_PORT" \
  >"$DATA/chroma.log" 2>&1 &
pids+=($!)
wait_port "$CHROMA_PORT" "the Chroma server" "$DATA/chroma.log"

# 3. Settings every worker shares: one data dir (catalog snapshot, fitted models), one secret.
export AISLE_DATA_DIR="$DATA" AISLE_CHROMA_MODE=server AISLE_CHROMA_PORT="$CHROMA_PORT"
export AISLE_RATE_LIMIT_STORE=database
if [ -z "${AISLE_SHOP_SECRET:-}" ]; then
  [ -f "$DATA/shop-secret.env" ] || echo "AISLE_SHOP_SECRET=$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(48))')" >"$DATA/shop-secret.env"
  chmod 600 "$DATA/shop-secret.env"
  set -a; . "$DATA/shop-secret.env"; set +a
fi

# 4. The shop (the demo shop unless one was ingested into $DATA), then the workers.
[ -f "$DATA/catalog/products.jsonl" ] || "$BIN/aisle" ingest --demo --no-progress
[ -d "$DATA/recommender" ] || "$BIN/aisle" train recsys
"$BIN/aisle" run --workers "$WORKERS" --port "$PORT" "$@" &
pids+=($!)
wait "${pids[-1]}"
