#!/usr/bin/env bash
# HTTP load benchmark of the web catalog, with nginx serving the same page as the floor.
#
#   bench/web.sh [CONFIG] [RUNS]     (default: examples/local-mirrors.toml, 3 runs)
#
# Syncs CONFIG into a temporary data dir, starts `ruledex serve` on a loopback port, saves its
# T1090 page as a static file and serves that with nginx (a config of its own, in the temp dir)
# on another. Then wrk (-t2 -c64 -d10s) hits, in turn and RUNS times each: ruledex's T1090
# page, ruledex's search for "tor exit node", and nginx's copy of the T1090 page. Prints per
# target the median requests/s, p50 and p99 latency, and the errors of all runs (non-2xx/3xx
# responses and socket errors); ruledex's throughput as a ratio to nginx's; and the server's
# peak RSS after the runs. wrk shares the machine's cores with the server under test, as it
# does with nginx. Needs bash, coreutils, awk, curl, wrk, nginx and python3 (for free ports).
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-examples/local-mirrors.toml}
runs=${2:-3}
wrk_args=(-t2 -c64 -d10s --latency)

PATH=$PATH:/usr/sbin # nginx, for users without sbin in their PATH
for tool in curl wrk nginx python3; do
  command -v "$tool" > /dev/null || {
    echo "bench/web.sh: $tool is missing (Debian: apt-get install curl wrk nginx python3)" >&2
    exit 1
  }
done

source bench/lib.sh
cargo build --release --quiet -p ruledex
bin=target/release/ruledex
tmp=$(mktemp -d)
server_pid=; nginx_pid=
cleanup() {
  for pid in $server_pid $nginx_pid; do kill "$pid" 2> /dev/null || true; done
  for pid in $server_pid $nginx_pid; do wait "$pid" 2> /dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT # these two run the EXIT trap
trap 'exit 143' TERM



"$bin" --config "$config" --data-dir "$tmp/data" sync > "$tmp/sync.log" 2>&1 ||
  { echo "bench/web.sh: sync failed:" >&2; cat "$tmp/sync.log" >&2; exit 1; }
port=$(free_port)
RULEDEX_LOG=warn "$bin" --config "$config" --data-dir "$tmp/data" serve --addr "127.0.0.1:$port" 2> "$tmp/serve.log" &
server_pid=$!
ruledex=http://127.0.0.1:$port
wait_for "$ruledex/healthz" "$server_pid" "ruledex serve" "$tmp/serve.log"

mkdir -p "$tmp/www/techniques" "$tmp/nginx"
chmod 711 "$tmp" # nginx workers started by root run as nobody, and must reach www/
curl -fsS "$ruledex/techniques/T1090" -o "$tmp/www/techniques/T1090"
curl -fsS "$ruledex/search?q=tor+exit+node" -o /dev/null # both now come from ruledex's page cache
nginx_port=$(free_port)
cat > "$tmp/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 2;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  # Like hyper, keep a connection for as many requests as wrk sends on it.
  keepalive_requests 1000000;
  client_body_temp_path $tmp/nginx/client_body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    root $tmp/www;
    location = /techniques/T1090 { default_type "text/html; charset=utf-8"; }
  }
}
EOF
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" &
nginx_pid=$!
nginx=http://127.0.0.1:$nginx_port
wait_for "$nginx/techniques/T1090" "$nginx_pid" "nginx" "$tmp/nginx/error.log"

names=(page search nginx)
declare -A urls=([page]="$ruledex/techniques/T1090" [search]="$ruledex/search?q=tor+exit+node" [nginx]="$nginx/techniques/T1090")
declare -A labels=([page]="ruledex /techniques/T1090" [search]="ruledex /search?q=tor+exit+node" [nginx]="nginx static T1090 page")


field() { awk -v c="$1" '{print $c}' "$tmp/$2.results"; }

for name in "${names[@]}"; do : > "$tmp/$name.results"; done
for _ in $(seq "$runs"); do
  for name in "${names[@]}"; do
    wrk "${wrk_args[@]}" "${urls[$name]}" > "$tmp/wrk.txt"
    parse_wrk "$tmp/wrk.txt" >> "$tmp/$name.results"
  done
done
kill -0 "$server_pid" 2> /dev/null || { echo "bench/web.sh: ruledex serve died:" >&2; cat "$tmp/serve.log" >&2; exit 1; }
# kB: the peak, and now how much of it is anonymous memory and how much file pages (mostly
# the memory-mapped catalog, which the kernel can drop and reread).
read -r rss_kb anon_kb file_kb < <(awk '{kb[$1] = $2} END {print kb["VmHWM:"], kb["RssAnon:"], kb["RssFile:"]}' "/proc/$server_pid/status")

detections=$(sed -n 's/.*catalog .* with \([0-9]*\) detections.*/\1/p' "$tmp/serve.log")
page_kb=$(($(wc -c < "$tmp/www/techniques/T1090") / 1024))
nginx_rps=$(field 1 nginx | median)
mb() { awk -v k="$1" 'BEGIN {printf "%.0f", k / 1024}'; }
echo "config: $config   detections: ${detections:-?}   runs: $runs   wrk ${wrk_args[*]}   cores: $(nproc)   T1090 page: $page_kb KB"
printf '%-34s %10s %9s %8s %8s %7s\n' target "req/s" "vs nginx" "p50 ms" "p99 ms" errors
for name in "${names[@]}"; do
  rps=$(field 1 "$name" | median)
  printf '%-34s %10.0f %9.2f %8.2f %8.2f %7d\n' "${labels[$name]}" "$rps" \
    "$(awk -v a="$rps" -v b="$nginx_rps" 'BEGIN {print a / b}')" \
    "$(field 2 "$name" | median)" "$(field 3 "$name" | median)" "$(field 4 "$name" | awk '{s += $1} END {print s}')"
done
printf '%-34s %10s %9s %8s %8s %7s\n' "goal (ruledex)" "" ">= 0.50" "" "< 20" 0
echo "(req/s, p50 and p99: medians over the runs; errors: non-2xx/3xx responses + socket errors, all runs)"
printf '%-34s %7s MB   goal < 200 MB   (now %s MB anonymous + %s MB file pages, mostly the mapped catalog)\n' \
  "ruledex serve peak RSS (VmHWM)" "$(mb "$rss_kb")" "$(mb "$anon_kb")" "$(mb "$file_kb")"
