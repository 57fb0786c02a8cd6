#!/usr/bin/env bash
# A/B of a full sync: a baseline binary (main's, say) against this checkout's, on the same
# config, the two run alternately in one session (the order swapped every run) so that the
# shared machine's load falls on both alike. Meant for one source's cost per file: give it a
# config of that source alone, scaled up with bench/scale.sh so that its files outweigh loading
# ATT&CK.
#
#   bench/ab-sync.sh BASELINE_BIN CONFIG [RUNS]     (default 7 runs)
#
# Per run and binary: wall time of the whole `ruledex sync` process, the ATT&CK load time it
# reports, and the files it read. Prints per binary the medians of the wall time, of the sync
# without ATT&CK per file read ((wall - ATT&CK load) / files), of its own parse and store
# times per file, and this checkout's median per file as a ratio to the baseline's.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 BASELINE_BIN CONFIG [RUNS]" >&2; exit 2; }
baseline=$(realpath "$1")
config=$(realpath "$2")
runs=${3:-7}
cd "$(dirname "$0")/.."
source bench/lib.sh

cargo build --release --quiet -p ruledex
current=$PWD/target/release/ruledex
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One full sync (no previous catalog) by binary $1, its figures appended to $work/$2.txt as
# "wall attack_load parse store files".
run() {
  rm -rf "$work/data"
  /usr/bin/time -f "%e" -o "$work/time" "$1" --config "$config" --data-dir "$work/data" sync --json > "$work/out.json"
  python3 - "$work/out.json" "$(cat "$work/time")" >> "$work/$2.txt" <<'PY'
import json, sys
out = json.load(open(sys.argv[1]))
sources = out["sources"]
parse = sum(s["parse_time"] for s in sources) / 1000
store = sum(s["store_time"] for s in sources) / 1000
print(sys.argv[2], out["attack"]["load_time"] / 1000, parse, store, sum(s["files"] for s in sources))
PY
}

for i in $(seq "$runs"); do
  if [ $((i % 2)) -eq 1 ]; then run "$baseline" baseline; run "$current" current
  else run "$current" current; run "$baseline" baseline; fi
done

# Median of an expression over the rows of $1.txt (w: wall, a: ATT&CK, p: parse, s: store, f: files).
m() { awk "{ w = \$1; a = \$2; p = \$3; s = \$4; f = \$5; print $2 }" "$work/$1.txt" | median; }
echo "config: $config   runs: $runs   cores: $(nproc)   load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-9s %6s %9s %22s %14s %14s\n' "" files "wall (s)" "(wall - ATT&CK) / file" "parse / file" "store / file"
for who in baseline current; do
  printf '%-9s %6d %9.2f %19.1f µs %11.1f µs %11.1f µs\n' "$who" "$(m "$who" f)" "$(m "$who" w)" \
    "$(m "$who" '(w - a) / f * 1e6')" "$(m "$who" 'p / f * 1e6')" "$(m "$who" 's / f * 1e6')"
done
awk -v a="$(m current '(w - a) / f')" -v b="$(m baseline '(w - a) / f')" \
  'BEGIN { printf "current / baseline, (wall - ATT&CK) per file: %.2f\n", a / b }'
