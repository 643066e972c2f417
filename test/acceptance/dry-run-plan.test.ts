// `npm run build-image -- --dry-run` shows the acceptance step's commands in the plan.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

it('the dry-run plan shows the smoke test and the audit between snapshot and export', async () => {
  const out = tempDir('acc-out-');
  const r = await runCli(['build', '--dry-run', '--release', '14.5', '--output', out, '--no-publish'], { env: { POT_IMAGE_BUILD_DATE: '2026-12-01' } });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
  const order = [/^pot snapshot -p /, /^chroot \S+\/jails\/matrix-synapse-nomad-amd64-14_5\/m \/usr\/local\/libexec\/matrix-synapse-nomad\/runtime-check/,
    /^ssh-keygen -q -t ed25519 /, /^pot clone -P matrix-synapse-nomad-amd64-14_5 -p matrix-synapse-nomad-amd64-14_5-smoke-/,
    /^pot set-cmd -p .* -c '"\/usr\/local\/bin\/cook"'$/, /^pot set-attribute .* -A persistent -V OFF$/, /^pot set-attribute .* -A no-tmpfs -V YES$/,
    /^pot copy-in .* -d \/root\/importauthkey$/, /^pot mount-in .* -m \/local$/, /^pot mount-in .* -m \/secrets$/, /^pot mount-in .* -m \/mnt$/,
    /^install -m 0600 \/dev\/stdin \S+\/secrets\/matrix-synapse\.env$/, /^pot set-env .*NOSSL=true.*CONTROLUSER=true/, /^pot start -p .*-smoke-/, /^curl .*\/health/, /^curl .*\/_matrix\/client\/versions/, /\.well-known\/matrix\/server/,
    /\/_synapse\/admin\/v1\/register/, /\/_matrix\/client\/v3\/login/, /^ssh .* -i \S+ -p 22 'control@<jail ip>' id -un$/, /^ssh .* -o PubkeyAuthentication=no .* 'control@<jail ip>' true$/, /^pot stop -p .*-smoke-/, /^pot destroy -F -p .*-smoke-/,
    /^pkg -c \S+\/jails\/matrix-synapse-nomad-amd64-14_5\/m query /, /^pkg audit -F --raw=json /, /^pot export /];
  const positions = order.map((re) => at(re));
  positions.forEach((p, i) => assert.ok(p >= 0, `plan has ${order[i]}:\n${r.stdout}`));
  assert.deepEqual([...positions].sort((a, b) => a - b), positions, 'in this order');
  assert.ok(!lines.some((l) => /MYSHAREDSECRET=(?!\*\*\*)\S/.test(l)), 'the generated secret never shows (the secrets file is written by the host, its content not in the plan)');
  assert.ok(!lines.some((l) => /^pot set-env .*MYSHAREDSECRET/.test(l)), 'the secret goes through the secrets file, never set-env');
});
