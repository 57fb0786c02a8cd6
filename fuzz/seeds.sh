#!/usr/bin/env bash
# Seeds the adapters target: the hand-written fixtures and a few real files per format from
# the test data ($RULEDEX_TEST_DATA, else ../shared), each prefixed with the byte that selects its
# format (its index in Format::ALL).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/adapters
shared=${RULEDEX_TEST_DATA:-../../shared}
seed() { # selector-byte name directory glob
  local byte=$1 name=$2 n=0
  while IFS= read -r -d '' file; do
    n=$((n + 1))
    { printf "\\x$(printf %02x "$byte")"; cat "$file"; } > "corpus/adapters/$name-$n"
  done < <(find "$3" -type f -name "$4" -size -16k -print0 | sort -z | head -z -n 12)
}
seed 0 chronicle-fixture ../tests/fixtures/chronicle '*.yaral'
seed 0 chronicle "$shared/corpus/chronicle-detection-rules/rules" '*.yaral'
seed 1 splunk-fixture ../tests/fixtures/splunk-escu '*.yml'
seed 1 splunk "$shared/corpus/splunk-security-content/detections" '*.yml'
seed 2 elastic-fixture ../tests/fixtures/elastic '*.toml'
seed 2 elastic "$shared/corpus/elastic-detection-rules/rules" '*.toml'
seed 3 sentinel "$shared/corpus-extra/azure-sentinel" '*.yaml'
seed 4 sublime "$shared/corpus/sublime-rules/detection-rules" '*.yml'
seed 5 sigma "$shared/corpus/sigma/rules" '*.yml'
seed 6 kql "$shared/corpus/kql-bertjanp/Defender For Endpoint" '*.md'
