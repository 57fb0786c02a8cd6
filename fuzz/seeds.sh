#!/usr/bin/env bash
# Seeds the adapters target: the hand-written fixtures and a few real files per format from
# the test data ($RULEDEX_TEST_DATA, else ../shared), each prefixed with the byte that selects its
# format (its index in Format::ALL) and folder (0x40: Sentinel's hunting queries). Seeds the splunk_macros target: real ESCU searches (whole
# detection files), each followed by real macro files, NUL-separated.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/adapters corpus/splunk_macros
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
seed 3 sentinel-breadth "$shared/corpus-extra/azure-sentinel-breadth/Detections" '*.y*'
seed $((0x40 + 3)) sentinel-hunting "$shared/corpus-extra/azure-sentinel-breadth/Hunting Queries" '*.y*'
seed 4 sublime "$shared/corpus/sublime-rules/detection-rules" '*.yml'
seed 5 sigma "$shared/corpus/sigma/rules" '*.yml'
seed 6 kql "$shared/corpus/kql-bertjanp/Defender For Endpoint" '*.md'
seed 7 panther-fixture ../tests/fixtures/panther '*.yml'
seed 7 panther "$shared/corpus/panther-analysis/rules" '*.yml'
seed 7 panther-correlation "$shared/corpus/panther-analysis/correlation_rules" '*.yml'
seed 8 elastic-endpoint "$shared/corpus/elastic-protections-artifacts/behavior/rules" '*.toml'
# The target offers each Panther rule its own text as the Python beside it, named fuzz.py.
sed -i '1!s/^Filename: .*/Filename: fuzz.py/' corpus/adapters/panther*

escu=$shared/corpus/splunk-security-content
n=0
while IFS= read -r -d '' file; do
  n=$((n + 1))
  { cat "$file"; for m in security_content_summariesonly summariesonly_config security_content_ctime base64decode process_netsh; do
      printf '\0'; cat "$escu/macros/$m.yml"; done; } > "corpus/splunk_macros/escu-$n"
done < <(find "$escu/detections" -type f -name '*.yml' -size -8k -print0 | sort -z | head -z -n 40)
printf '%s\0%s\0%s\0%s' '| `a` `b(1, "2,3")` "`a`" ````a````' 'a||`b(x,y)`' 'b|p,q|$p$ `a` $q$' 'c|x|`c(1)`' > corpus/splunk_macros/cycle
