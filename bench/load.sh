#!/usr/bin/env bash
# Bounded load run on loopback: the customer list page of the real app (as the busiest salesperson)
# next to a bare Flask page rendering a 50-row table, both under gunicorn, measured with wrk in the
# same run. Target: the list page keeps >= 50% of the bare page's requests/s.
#
#   bench/load.sh [sqlite|pg|SQLAlchemy URL]
#   environment: DURATION=20s WARMUP=5s THREADS=2 CONNECTIONS=16 WORKERS=2 LOGIN=rep01 LIST_PATH=/r/customer/
#                ROUNDS=1 (bare, list, bare, list... alternated: on a shared machine each round's ratio is
#                taken under the same load) WRK_TIMEOUT=10s (slower answers count as timeouts, not latency)
#
# Needs: wrk (apt-get install -y wrk), gunicorn (pip install -e '.[server]'), a database made by
# bench/generate.py. Only 127.0.0.1 is used; both servers are stopped on exit.
set -euo pipefail

cd "$(dirname "$0")/.."
URL="${1:-sqlite}"
DURATION="${DURATION:-20s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-16}"
WORKERS="${WORKERS:-2}"
LOGIN="${LOGIN:-rep01}"
LIST_PATH="${LIST_PATH:-/r/customer/}"
ROUNDS="${ROUNDS:-1}"
WRK_TIMEOUT="${WRK_TIMEOUT:-10s}"
PY="${PY:-.venv/bin/python}"
GUNICORN="${GUNICORN:-.venv/bin/gunicorn}"
BARE_PORT=8101
APP_PORT=8102
LOG_DIR="${GUANXI_BENCH_DIR:-/tmp/bench}/load-logs"
mkdir -p "$LOG_DIR"

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
[ -x "$GUNICORN" ] || { echo "gunicorn is missing: $PY -m pip install gunicorn" >&2; exit 1; }

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

export GUANXI_BENCH_URL="$URL"
"$GUNICORN" --chdir bench --bind "127.0.0.1:$BARE_PORT" --workers "$WORKERS" --access-logfile - \
    'bare_app:create_bare_app()' >"$LOG_DIR/bare.log" 2>&1 &
PIDS+=($!)
"$GUNICORN" --chdir bench --bind "127.0.0.1:$APP_PORT" --workers "$WORKERS" \
    app_wsgi:app >"$LOG_DIR/app.log" 2>&1 &
PIDS+=($!)

COOKIE="$("$PY" bench/cookie.py --url "$URL" --login "$LOGIN")"

wait_for() {  # url [cookie]
    for _ in $(seq 1 60); do
        code="$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: ${2:-}" "$1" || true)"
        [ "$code" = "200" ] && return 0
        sleep 0.5
    done
    echo "no 200 from $1 (last status $code); see $LOG_DIR" >&2
    return 1
}
wait_for "http://127.0.0.1:$BARE_PORT/"
wait_for "http://127.0.0.1:$APP_PORT$LIST_PATH" "$COOKIE"

run() {  # label url [cookie]
    local out
    # unmeasured warm-up: worker imports, template compilation, the database's page cache
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP:-5s}" --timeout "$WRK_TIMEOUT" ${3:+-H "Cookie: $3"} "$2" >/dev/null
    out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout "$WRK_TIMEOUT" --latency ${3:+-H "Cookie: $3"} "$2")"
    echo "$out" >"$LOG_DIR/wrk-$1.txt"
    local rps p99 non2xx timeouts
    rps="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
    p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
    non2xx="$(awk '/Non-2xx/ {print $NF}' <<<"$out")"
    timeouts="$(awk '/Socket errors/ {print $NF}' <<<"$out")"
    printf '%-32s %10s req/s   p99 %9s   non-2xx %s   timeouts %s   load %s\n' "$1" "$rps" "$p99" "${non2xx:-0}" \
        "${timeouts:-0}" "$(cut -d' ' -f1 /proc/loadavg)" >&2
    echo "$rps"
}

echo "load: $URL, wrk -t$THREADS -c$CONNECTIONS -d$DURATION, gunicorn --workers $WORKERS, $(nproc) cores," \
     "load average $(cut -d' ' -f1 /proc/loadavg)" >&2
for round in $(seq 1 "$ROUNDS"); do
    BARE_RPS="$(run "bare-flask-50-rows-$round" "http://127.0.0.1:$BARE_PORT/")"
    APP_RPS="$(run "guanxi-list-$LOGIN-$round" "http://127.0.0.1:$APP_PORT$LIST_PATH" "$COOKIE")"
    awk -v a="$APP_RPS" -v b="$BARE_RPS" -v n="$round" 'BEGIN {
        r = 100 * a / b; printf "round %d: list page / bare page = %.0f%% (target >= 50%%): %s\n", n, r,
        (r >= 50 ? "ok" : "BELOW TARGET") }'
done
