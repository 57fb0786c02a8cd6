#!/usr/bin/env bash
# Seeds the adapters target with the hand-written fixtures, each prefixed with the byte that
# selects its format (the index in Format::ALL).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/adapters
seed() { # selector-byte fixture-dir
  local byte=$1 dir=$2 n=0
  while IFS= read -r -d '' file; do
    n=$((n + 1))
    { printf "\\x$(printf %02x "$byte")"; cat "$file"; } > "corpus/adapters/$(basename "$dir")-$n"
  done < <(find "../tests/fixtures/$dir" -type f ! -name '*.md' -print0)
}
seed 0 chronicle
seed 1 splunk-escu
seed 2 elastic
