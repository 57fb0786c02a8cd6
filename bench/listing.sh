#!/usr/bin/env bash
# Listing benchmark: the first page of the largest listings, at 1x and 8x the corpora.
#
#   bench/listing.sh [SCALES] [RUNS] [REQUESTS]   (default: "1 8", 30 runs, 1000 requests)
#
# For each scale N, builds a catalog N times the size of examples/local-mirrors.toml (each source
# copied N times, bench/scale.sh; 1 is the config itself), serves it with `ruledex serve
# --no-sync`, and for the first page of T1059 with community content and of T1566 with the
# detections ruledex's mapping lists (inferred), through the API (20 and 100 detections) and the
# HTML page (100 cards):
#  - bytes: the answer's size, uncompressed;
#  - time: median and p95 of RUNS requests, each made with HEAD, which the response cache does
#    not answer (the server does all the work of a GET, then sends no body);
# then sends REQUESTS more such requests over every page of both listings and reports the
# server's resident memory (VmRSS) and its peak (VmHWM). Prints the load average before and
# after. Needs bash, cargo, curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
scales=${1:-"1 8"}
runs=${2:-30}
requests=${3:-1000}

cargo build --release --quiet -p ruledex
bin=$PWD/target/release/ruledex
tmp=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2> /dev/null; rm -rf "$tmp"' EXIT

# The paths measured, by name.
paths=(
  "T1059-community-api-20 /api/v1/techniques/T1059?community=1"
  "T1059-community-api-100 /api/v1/techniques/T1059?community=1&limit=100"
  "T1059-community-page /techniques/T1059?community=1"
  "T1566-inferred-api-20 /api/v1/techniques/T1566?inferred=1"
  "T1566-inferred-api-100 /api/v1/techniques/T1566?inferred=1&limit=100"
  "T1566-inferred-page /techniques/T1566?inferred=1"
)

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for scale in $scales; do
  config=$PWD/examples/local-mirrors.toml
  if [ "$scale" != 1 ]; then
    config=$(bench/scale.sh "$scale" "$tmp/scaled-$scale")
  fi
  data=$tmp/data-$scale
  "$bin" --config "$config" --data-dir "$data" sync > "$tmp/sync-$scale.log" 2>&1 ||
    { echo "bench/listing.sh: sync at ${scale}x failed:" >&2; cat "$tmp/sync-$scale.log" >&2; exit 1; }
  printf '\n%sx: %s\n' "$scale" "$(grep -o '([0-9]* detections) built in .*' "$tmp/sync-$scale.log" | tail -1)"
  port=$(free_port)
  "$bin" --config "$config" --data-dir "$data" serve --no-sync --addr "127.0.0.1:$port" > "$tmp/serve-$scale.log" 2>&1 &
  server=$!
  wait_for "http://127.0.0.1:$port/api/v1/stats" "$server" "ruledex serve" "$tmp/serve-$scale.log"
  printf '%-26s %10s %10s %10s %10s\n' "first page" "bytes" "listed" "median ms" "p95 ms"
  for entry in "${paths[@]}"; do
    name=${entry%% *} path=${entry#* }
    url="http://127.0.0.1:$port$path"
    bytes=$(curl -s -o "$tmp/body" -w '%{size_download}' "$url")
    listed=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["detections"]))' "$tmp/body" 2> /dev/null || echo "-")
    for _ in $(seq "$runs"); do curl -s -o /dev/null -I -w '%{time_total}\n' "$url"; done > "$tmp/times"
    median_ms=$(awk '{print $1 * 1000}' "$tmp/times" | median)
    p95_ms=$(awk '{print $1 * 1000}' "$tmp/times" | sort -g | awk -v n="$runs" '{a[NR]=$1} END {print a[int(n * 0.95) > 0 ? int(n * 0.95) : 1]}')
    printf '%-26s %10s %10s %10.2f %10.2f\n' "$name" "$bytes" "$listed" "$median_ms" "$p95_ms"
  done
  # REQUESTS more: every page of both listings, round and round, uncached (HEAD).
  for i in $(seq 0 $((requests - 1))); do
    case $((i % 4)) in
      0) echo "/api/v1/techniques/T1059?community=1&limit=100&offset=$(( (i / 4 * 100) % 600 ))" ;;
      1) echo "/techniques/T1059?community=1&offset=$(( (i / 4 * 100) % 600 ))" ;;
      2) echo "/api/v1/techniques/T1566?inferred=1&limit=100&offset=$(( (i / 4 * 100) % 900 ))" ;;
      3) echo "/techniques/T1566?inferred=1&offset=$(( (i / 4 * 100) % 900 ))" ;;
    esac
  done | sed "s|^|url = \"http://127.0.0.1:$port|; s|$|\"\nhead\noutput = /dev/null|" > "$tmp/requests"
  curl -s -K "$tmp/requests" -w '%{http_code}\n' | sort | uniq -c | awk '{printf "  %s answers %s\n", $1, $2}'
  memory=$(awk '/VmRSS|VmHWM/ {printf "%s %.0f MB  ", $1, $2 / 1024}' "/proc/$server/status")
  echo "server memory after $requests more requests: $memory"
  kill "$server"
  wait "$server" 2> /dev/null || true
  server=
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
