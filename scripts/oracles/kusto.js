#!/usr/bin/env node
// Microsoft's own Kusto parser (npm @kusto/language-service-next) as a command: reads JSON lines
// {"id": ..., "text": "..."} on standard input and writes one JSON line per query,
// {"id": ..., "diagnostics": [{"severity", "code", "message", "start", "end"}]}, in input order.
// Only the syntax is checked: without a workspace's schema every table would be unknown.
//
// The package is found through NODE_PATH (scripts/test.sh installs it under
// target/tools/node/node_modules); `node scripts/oracles/kusto.js --version` names the version.
'use strict';

const readline = require('readline');

function load() {
  try {
    require('@kusto/language-service-next/bridge.js');
    require('@kusto/language-service-next/Kusto.Language.Bridge.js');
  } catch (error) {
    process.stderr.write(
      `kusto.js: cannot load @kusto/language-service-next (${error.message}); ` +
        'run scripts/test.sh, or set NODE_PATH to a node_modules folder holding it\n',
    );
    process.exit(2);
  }
}

function diagnostics(query) {
  const code = global.Kusto.Language.KustoCode.Parse(query);
  return global.Bridge.toArray(code.GetDiagnostics()).map((d) => ({
    severity: String(d.Severity),
    code: d.Code,
    message: d.Message,
    start: d.Start,
    end: d.End,
  }));
}

function main() {
  load();
  if (process.argv.includes('--version')) {
    console.log(require('@kusto/language-service-next/package.json').version);
    return;
  }
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    const { id, text } = JSON.parse(line);
    process.stdout.write(JSON.stringify({ id, diagnostics: diagnostics(String(text)) }) + '\n');
  });
}

main();
