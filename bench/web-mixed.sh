#!/usr/bin/env bash
# Mixed HTTP load on ruledex serve, to show one client cannot starve the others (issue 7), nor
# 20,000 idle connections take the server down (issue 21, item 1).
#
#   bench/web-mixed.sh [CONFIG] [SECONDS] [IDLE]
#       (default: examples/local-mirrors.toml, 20 s, 20000 idle connections)
#
# Syncs CONFIG into a temporary data dir and starts `ruledex serve`. Two processes of
# bench/idle-connections.py then hold IDLE connections that send nothing (reopening each one the
# server closes), and for SECONDS wrk sends 256 connections of mixed traffic
# (bench/web-mixed.lua: the T1090 page, T1059 with community content, costly searches of 36 ORed
# prefixes, technique API answers), while a second wrk measures /healthz with 4 connections
# beside it. Prints requests/s and errors of the mix, /healthz p50/p99 latency throughout, the
# server's open connections midway, what it logged at its connection cap, and its peak RSS.
# Goals: 0 errors, /healthz p99 under 50 ms, peak RSS under 300 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-examples/local-mirrors.toml}
seconds=${2:-20}
idle=${3:-20000}
PATH=$PATH:/usr/sbin
for tool in curl wrk python3; do
  command -v "$tool" > /dev/null || { echo "bench/web-mixed.sh: $tool is missing (Debian: apt-get install $tool)" >&2; exit 1; }
done
source bench/lib.sh
cargo build --release --quiet -p ruledex
bin=target/release/ruledex
tmp=$(mktemp -d)
server_pid=
cleanup() {
  [ -z "$server_pid" ] || { kill "$server_pid" 2> /dev/null || true; wait "$server_pid" 2> /dev/null || true; }
  rm -rf "$tmp"
}
trap cleanup EXIT

"$bin" --config "$config" --data-dir "$tmp/data" sync > "$tmp/sync.log" 2>&1 ||
  { echo "bench/web-mixed.sh: sync failed:" >&2; cat "$tmp/sync.log" >&2; exit 1; }
port=$(free_port)
RULEDEX_LOG=warn "$bin" --config "$config" --data-dir "$tmp/data" serve --addr "127.0.0.1:$port" 2> "$tmp/serve.log" &
server_pid=$!
base=http://127.0.0.1:$port
wait_for "$base/healthz" "$server_pid" "ruledex serve" "$tmp/serve.log"

# Two holders: each process's own open file limit stays well clear.
for _ in 1 2; do
  python3 bench/idle-connections.py 127.0.0.1 "$port" $((idle / 2)) $((seconds + 5)) >> "$tmp/idle.txt" &
done
sleep 3
wrk -t2 -c256 -d"${seconds}s" --timeout 30s --latency -s bench/web-mixed.lua "$base" > "$tmp/mix.txt" &
mix_pid=$!
wrk -t1 -c4 -d"${seconds}s" --latency "$base/healthz" > "$tmp/health.txt" &
health_pid=$!
sleep $((seconds / 2))
server_sockets=$(find "/proc/$server_pid/fd" -lname 'socket:*' | wc -l)
wait "$mix_pid" "$health_pid"
wait
kill -0 "$server_pid" 2> /dev/null || { echo "bench/web-mixed.sh: ruledex serve died:" >&2; cat "$tmp/serve.log" >&2; exit 1; }
read -r rss_kb < <(awk '$1 == "VmHWM:" {print $2}' "/proc/$server_pid/status")

read -r mix_rps mix_p50 mix_p99 mix_errors < <(parse_wrk "$tmp/mix.txt")
read -r health_rps health_p50 health_p99 health_errors < <(parse_wrk "$tmp/health.txt")
echo "config: $config   ${seconds} s   cores: $(nproc)   mix: 256 connections (bench/web-mixed.lua)   idle: $idle held"
printf '%-30s %9s %8s %8s %7s\n' target "req/s" "p50 ms" "p99 ms" errors
printf '%-30s %9.0f %8.2f %8.2f %7d\n' "mixed traffic" "$mix_rps" "$mix_p50" "$mix_p99" "$mix_errors"
printf '%-30s %9.0f %8.2f %8.2f %7d\n' "/healthz beside it" "$health_rps" "$health_p50" "$health_p99" "$health_errors"
printf '%-30s %9s %8s %8s %7s\n' goal "" "" "< 50" 0
grep -E '^status |Socket errors|Non-2xx' "$tmp/mix.txt" | sed 's/^/  mix: /'
read -r held reopened < <(awk '{held += $1; reopened += $2} END {print held + 0, reopened + 0}' "$tmp/idle.txt")
echo "idle connections: $held held at the end, $reopened reopened after the server closed them;" \
  "the server had $server_sockets sockets open midway (open file limit: $(awk '$2 == "open" {print $4}' "/proc/$server_pid/limits"))"
grep -E 'connections open|open file limit|accept' "$tmp/serve.log" | sed 's/^/  serve: /' || true
printf 'ruledex serve peak RSS (VmHWM) %.0f MB   goal < 300 MB\n' "$(awk -v k="$rss_kb" 'BEGIN {print k / 1024}')"
