// `npm run build-image -- --dry-run` shows the acceptance step's commands in the plan.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

it('the dry-run plan shows the smoke test and the audit between snapshot and export', async () => {
  const out = tempDir('acc-out-');
  const r = await runCli(['build', '--dry-run', '--output', out, '--no-publish']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
  const order = [/^pot snapshot -p /, /^pot clone -P matrix-synapse-nomad-amd64-13_0 -p matrix-synapse-nomad-amd64-13_0-smoke-/, /^pot mount-in .* -m \/mnt$/,
    /^pot set-env .*NOSSL=true/, /^pot start -p .*-smoke-/, /^curl .*\/health/, /^curl .*\/_matrix\/client\/versions/, /\.well-known\/matrix\/server/,
    /\/_synapse\/admin\/v1\/register/, /\/_matrix\/client\/v3\/login/, /^pot stop -p .*-smoke-/, /^pot destroy -F -p .*-smoke-/,
    /^pkg -c \S+\/jails\/matrix-synapse-nomad-amd64-13_0\/m query /, /^pkg audit -F --raw=json /, /^pot export /];
  const positions = order.map((re) => at(re));
  positions.forEach((p, i) => assert.ok(p >= 0, `plan has ${order[i]}:\n${r.stdout}`));
  assert.deepEqual([...positions].sort((a, b) => a - b), positions, 'in this order');
  assert.ok(lines.some((l) => l.includes('MYSHAREDSECRET=***')), 'the generated secret is redacted');
});
