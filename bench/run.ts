// `npm run bench`: every bench/*.bench.ts, one after the other (they measure
// throughput, so never in parallel), each in its own process. Each prints its
// figures and exits non-zero when it misses a target; so does this run.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const benches = readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort();
let failed = 0;
for (const file of benches) {
  console.log(`\n== ${file}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, file)], { stdio: 'inherit', cwd: join(here, '..') });
  if (r.status !== 0) {
    failed++;
    console.log(`${file} exited ${r.status ?? r.signal}`);
  }
}
console.log(failed ? `\nbench: ${failed} of ${benches.length} missed a target or failed (NOT met above)` : `\nbench: all ${benches.length} met their targets`);
process.exitCode = failed ? 1 : 0;
