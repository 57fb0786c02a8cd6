#!/usr/bin/env bash
# Full sync benchmark: every source of a config plus the ATT&CK bundles, from local paths.
#
#   bench/sync.sh [CONFIG] [RUNS]     (default: examples/local-mirrors.toml, 7 runs)
#
# Per run: wall time and peak RSS of the whole `ruledex sync` process (GNU time), and the
# time ruledex itself reports for loading ATT&CK, parsing and storing (a source is parsed while
# the one before is stored, so the two add up to more than the wall time). In the same run it
# measures the I/O floor, reading every rule file once (cat > /dev/null), and reports the
# sync's median as a multiple of that floor. Prints medians; the machine is shared and noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-examples/local-mirrors.toml}
runs=${2:-7}

cargo build --release --quiet -p ruledex
bin=target/release/ruledex
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT

roots=$("$bin" --config "$config" --data-dir "$data" config show | sed -n 's/^path = "\(.*\)"$/\1/p')

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

: > "$data/wall"; : > "$data/rss"; : > "$data/attack"; : > "$data/parse"; : > "$data/store"; : > "$data/floor"
for i in $(seq "$runs"); do
  start=$(date +%s.%N)
  # One root a line (a path may hold spaces); extensions in any case (Sentinel writes `.YAML`).
  while IFS= read -r root; do
    find "$root" -type f \( -iname '*.yml' -o -iname '*.yaml' -o -name '*.toml' -o -name '*.yaral' -o -name '*.md' \) -print0 | xargs -0 cat > /dev/null
  done <<< "$roots"
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN {print b - a}' >> "$data/floor"

  # A full sync each run: with the previous catalog in place, sync re-reads only what changed
  # (bench/resync.sh measures that).
  rm -rf "$data/catalog"
  /usr/bin/time -f "%e %M" -o "$data/time" "$bin" --config "$config" --data-dir "$data/catalog" sync --json > "$data/out.json"
  read -r wall rss < "$data/time"
  echo "$wall" >> "$data/wall"; echo "$rss" >> "$data/rss"
  python3 - "$data" <<'PY'
import json, sys
d = sys.argv[1]
out = json.load(open(f"{d}/out.json"))
open(f"{d}/attack", "a").write(f"{out['attack']['load_time'] / 1000}\n")
open(f"{d}/parse", "a").write(f"{sum(s['parse_time'] for s in out['sources']) / 1000}\n")
open(f"{d}/store", "a").write(f"{sum(s['store_time'] for s in out['sources']) / 1000}\n")
PY
done

detections=$(python3 -c "import json; print(sum(s['detections'] for s in json.load(open('$data/out.json'))['sources']))")
wall=$(median < "$data/wall"); floor=$(median < "$data/floor")
echo "config: $config   runs: $runs   detections: $detections   cores: $(nproc)"
printf 'sync wall time     median %6.2f s   (goals: < 2 s for the three vendor sources of issue 2, < 3 s for all)\n' "$wall"
printf 'peak memory (RSS)  median %6.0f MB  (goal < 300 MB)\n' "$(median < "$data/rss" | awk '{print $1 / 1024}')"
printf '  load ATT&CK      median %6.2f s\n' "$(median < "$data/attack")"
printf '  parse sources    median %6.2f s\n' "$(median < "$data/parse")"
printf '  store catalog    median %6.2f s\n' "$(median < "$data/store")"
printf 'I/O floor (cat)    median %6.2f s   sync / floor = %.1f\n' "$floor" "$(awk -v a="$wall" -v b="$floor" 'BEGIN {print a / b}')"
