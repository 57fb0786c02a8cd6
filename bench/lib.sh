# Shared by the HTTP benchmarks (bench/web.sh, bench/web-mixed.sh): ports, waiting for a
# server, reading wrk's report, medians. Sourced, not run.

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for URL PID NAME LOG: polls URL until it answers; fails if PID exits first or 30 s pass.
wait_for() {
  local url=$1 pid=$2 name=$3 log=$4
  for _ in $(seq 300); do
    curl -fsS -o /dev/null "$url" 2> /dev/null && return 0
    kill -0 "$pid" 2> /dev/null || { echo "$0: $name exited; its log:" >&2; cat "$log" >&2; exit 1; }
    sleep 0.1
  done
  echo "$0: $name did not answer $url within 30 s; its log:" >&2
  cat "$log" >&2
  exit 1
}

# One wrk report -> "requests/s p50_ms p99_ms errors".
parse_wrk() {
  awk '
    function ms(v) {
      if (v ~ /us$/) return v / 1000
      if (v ~ /ms$/) return v + 0
      if (v ~ /s$/) return v * 1000
      return v * 60000 # minutes
    }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /Socket errors:/ { gsub(",", ""); errors += $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { errors += $5 }
    $1 == "Requests/sec:" { rps = $2 }
    END { print rps, p50, p99, errors + 0 }
  ' "$1"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
