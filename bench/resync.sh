#!/usr/bin/env bash
# Re-sync benchmark: what a sync costs when nothing, or one file, changed upstream, against a
# full sync from scratch measured in the same run.
#
#   bench/resync.sh [RUNS]     (default 7 runs)
#
# It copies the test data's corpora (../shared, or $RULEDEX_TEST_DATA) into a temporary folder,
# so one rule file can be edited, and syncs every source of examples/local-mirrors.toml from
# there. Per run, each timed as the whole `ruledex sync` process (GNU time):
#   full       a sync from scratch (no catalog): what every sync cost before incremental syncs
#   unchanged  a re-sync with nothing changed upstream (goal < 0.3 s)
#   one file   a re-sync after one Sigma rule's title changed (goal < 0.5 s)
#   floor      copying the catalog file and making the copy durable (cp + sync), which a sync
#              that changes anything must do: generations are immutable files
# Prints medians; the machine is shared and noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}
data=${RULEDEX_TEST_DATA:-../shared}

cargo build --release --quiet -p ruledex
bin=$PWD/target/release/ruledex
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The example config names ../../shared from its folder: lay out the same shape around a copy.
mkdir -p "$work/checkout/examples" "$work/shared"
cp -r "$data/corpus" "$data/corpus-extra" "$work/shared/"
chmod -R u+w "$work/shared"
ln -s "$(realpath "$data/attack")" "$work/shared/attack"
cp examples/local-mirrors.toml "$work/checkout/examples/"
config=$work/checkout/examples/local-mirrors.toml
catalog=$work/catalog
edited=$(cd "$work/shared/corpus/sigma" && find rules -name '*.yml' | sort | sed -n 1p)

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# Runs `ruledex sync --json`, appending its wall time to $work/NAME.txt and its CPU time (user +
# system) to $work/NAME.cpu; its output is $work/out. On a busy machine CPU time is the steadier.
timed_sync() {
  /usr/bin/time -f "%e %U %S" -o "$work/time" "$bin" --config "$config" --data-dir "$catalog" sync --json > "$work/out" || true
  awk '{print $1}' "$work/time" >> "$work/$1.txt"
  awk '{print $2 + $3}' "$work/time" >> "$work/$1.cpu"
}

for i in $(seq "$runs"); do
  rm -rf "$catalog"
  timed_sync full
  timed_sync unchanged
  python3 -c "import json,sys; assert json.load(open(sys.argv[1]))['unchanged'], 'a re-sync without changes wrote'" "$work/out"

  sed -i "s/^title: .*/title: Bench edit $i/" "$work/shared/corpus/sigma/$edited"
  timed_sync one_file
  python3 - "$work/out" <<'PY'
import json, sys
out = json.load(open(sys.argv[1]))
assert not out["unchanged"] and out["changes"]["changed"] == 1, out["changes"]
sigma = next(s for s in out["sources"] if s["name"] == "sigma")
assert sigma["files_reused"] == sigma["files"] - 1, (sigma["files_reused"], sigma["files"])
PY

  start=$(date +%s.%N)
  cp "$catalog/catalog.sqlite" "$work/copy.sqlite" && sync "$work/copy.sqlite"
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN {print b - a}' >> "$work/floor.txt"
  rm -f "$work/copy.sqlite"
done

m() { median < "$work/$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", a / b}'; }
echo "config: examples/local-mirrors.toml (all sources, from a copy)   runs: $runs   cores: $(nproc)   catalog: $(du -m "$catalog/catalog.sqlite" | cut -f1) MB   load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-24s %10s %10s %14s\n' "" "wall" "cpu" "full / this"
printf '%-24s %8.2f s %8.2f s %14s\n' "full sync from scratch" "$(m full.txt)" "$(m full.cpu)" ""
printf '%-24s %8.2f s %8.2f s %13sx   goal < 0.3 s\n' "unchanged re-sync" "$(m unchanged.txt)" "$(m unchanged.cpu)" "$(ratio "$(m full.txt)" "$(m unchanged.txt)")"
printf '%-24s %8.2f s %8.2f s %13sx   goal < 0.5 s\n' "one changed file" "$(m one_file.txt)" "$(m one_file.cpu)" "$(ratio "$(m full.txt)" "$(m one_file.txt)")"
printf '%-24s %8.2f s %10s %14s   the catalog a changing sync copies and makes durable\n' "floor: cp + fsync" "$(m floor.txt)" "" ""
