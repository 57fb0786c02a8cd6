#!/usr/bin/env bash
# Mixed HTTP load on ruledex serve, to show one client cannot starve the others (issue 7).
#
#   bench/web-mixed.sh [CONFIG] [SECONDS]     (default: examples/local-mirrors.toml, 20 s)
#
# Syncs CONFIG into a temporary data dir and starts `ruledex serve`. Then, for SECONDS, wrk
# sends 256 connections of mixed traffic (bench/web-mixed.lua: the T1090 page, T1059 with
# community content, costly searches of 36 ORed prefixes, technique API answers), while a second
# wrk measures /healthz with 4 connections beside it. Prints requests/s and errors of the mix,
# /healthz p50/p99 latency throughout, and the server's peak RSS. Goals: 0 errors, /healthz p99
# under 50 ms, peak RSS under 250 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-examples/local-mirrors.toml}
seconds=${2:-20}
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

wrk -t2 -c256 -d"${seconds}s" --timeout 30s --latency -s bench/web-mixed.lua "$base" > "$tmp/mix.txt" &
mix_pid=$!
wrk -t1 -c4 -d"${seconds}s" --latency "$base/healthz" > "$tmp/health.txt"
wait "$mix_pid"
kill -0 "$server_pid" 2> /dev/null || { echo "bench/web-mixed.sh: ruledex serve died:" >&2; cat "$tmp/serve.log" >&2; exit 1; }
read -r rss_kb < <(awk '$1 == "VmHWM:" {print $2}' "/proc/$server_pid/status")

read -r mix_rps mix_p50 mix_p99 mix_errors < <(parse_wrk "$tmp/mix.txt")
read -r health_rps health_p50 health_p99 health_errors < <(parse_wrk "$tmp/health.txt")
echo "config: $config   ${seconds} s   cores: $(nproc)   mix: 256 connections (bench/web-mixed.lua)"
printf '%-30s %9s %8s %8s %7s\n' target "req/s" "p50 ms" "p99 ms" errors
printf '%-30s %9.0f %8.2f %8.2f %7d\n' "mixed traffic" "$mix_rps" "$mix_p50" "$mix_p99" "$mix_errors"
printf '%-30s %9.0f %8.2f %8.2f %7d\n' "/healthz beside it" "$health_rps" "$health_p50" "$health_p99" "$health_errors"
printf '%-30s %9s %8s %8s %7s\n' goal "" "" "< 50" 0
printf 'ruledex serve peak RSS (VmHWM) %.0f MB   goal < 250 MB\n' "$(awk -v k="$rss_kb" 'BEGIN {print k / 1024}')"
