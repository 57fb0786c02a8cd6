#!/usr/bin/env bash
# MCP benchmark of `ruledex mcp` over stdio, on an existing catalog.
#
#   bench/mcp.sh [CONFIG] [RUNS] [CALLS]    (default: examples/local-mirrors.toml, 20 runs, 200 calls)
#   RULEDEX_BIN=/path/to/ruledex bench/mcp.sh   (that binary, an earlier build say, instead of building one)
#
# Syncs CONFIG into a temporary data dir, then, as an assistant does (JSON-RPC lines on the
# child's stdin and stdout):
#  - cold start, RUNS times: from spawning `ruledex mcp` to the answer of its first tool call
#    (initialize, initialized, `technique` T1090), the process's whole start included;
#  - calls, in one process: CALLS `technique` T1090 calls one after another, each timed from
#    writing the request to reading its answer.
# Prints medians and p95s. Needs bash, cargo and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-examples/local-mirrors.toml}
runs=${2:-20}
calls=${3:-200}

bin=${RULEDEX_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --quiet -p ruledex
  bin=target/release/ruledex
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" --config "$config" --data-dir "$tmp/data" sync > "$tmp/sync.log" 2>&1 ||
  { echo "bench/mcp.sh: sync failed:" >&2; cat "$tmp/sync.log" >&2; exit 1; }

python3 - "$bin" "$config" "$tmp/data" "$runs" "$calls" << 'PY'
import json, statistics, subprocess, sys, time

binary, config, data, runs, calls = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
INIT = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}
CALL = {"name": "technique", "arguments": {"technique": "T1090"}}

class Server:
    def __init__(self):
        self.started = time.perf_counter()
        self.process = subprocess.Popen([binary, "--config", config, "--data-dir", data, "mcp"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.next = 0

    def send(self, message):
        self.process.stdin.write((json.dumps(message) + "\n").encode())
        self.process.stdin.flush()

    def request(self, method, params):
        self.next += 1
        self.send({"jsonrpc": "2.0", "id": self.next, "method": method, "params": params})
        while True:
            line = self.process.stdout.readline()
            if not line:
                sys.exit("bench/mcp.sh: the server closed stdout")
            answer = json.loads(line)
            if answer.get("id") == self.next:
                if "error" in answer or answer["result"].get("isError"):
                    sys.exit(f"bench/mcp.sh: {line.decode()[:500]}")
                return answer

    def hello(self):
        self.request("initialize", INIT)
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def close(self):
        self.process.stdin.close()
        self.process.wait()

def ms(seconds):
    return f"{seconds * 1000:.2f} ms"

def p95(values):
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]

cold = []
for _ in range(runs):
    server = Server()
    server.hello()
    server.request("tools/call", CALL)
    cold.append(time.perf_counter() - server.started)
    server.close()

server = Server()
server.hello()
server.request("tools/call", CALL)  # the catalog is open
warm = []
size = 0
for _ in range(calls):
    started = time.perf_counter()
    answer = server.request("tools/call", CALL)
    warm.append(time.perf_counter() - started)
    size = len(json.dumps(answer))
server.close()

print(f"cold start to the first `technique` answer ({runs} runs): median {ms(statistics.median(cold))}, "
      f"p95 {ms(p95(cold))}  (goal < 100 ms)")
print(f"`technique` T1090 over stdio ({calls} calls, {size} bytes each): median {ms(statistics.median(warm))}, "
      f"p95 {ms(p95(warm))}  (goal < 5 ms)")
PY
