// image/README.md stays true to the image: front matter, every parameter with its flag and
// requirement, the shipped job verbatim, the walk-through's job renders and checks; and the
// parameter list agrees with cook's flags and docs/image.md when those exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parse } from '@cdktf/hcl2json';
import { PROJECT_ROOT } from '../helpers/cli.js';
import { fixtureProject, SHIPPED_JOB } from './fixture.js';
import { IMAGE_PARAMETERS } from '../../pipeline/nomad/parameters.js';
import { parseParams } from '../../pipeline/nomad/params-file.js';
import { renderJobFor } from '../../pipeline/nomad/job-file.js';
import { checkJob } from '../../pipeline/nomad/check.js';

const readme = readFileSync(join(PROJECT_ROOT, 'image', 'README.md'), 'utf8');
const { definition } = fixtureProject();

test('front matter: author, title, summary, tags', () => {
  const m = /^---\n([\s\S]*?)\n---\n/.exec(readme);
  assert.ok(m, 'README starts with a --- front matter block');
  const fm = parseYaml(m[1] ?? '') as Record<string, unknown>;
  for (const key of ['author', 'title', 'summary']) assert.ok(typeof fm[key] === 'string' && (fm[key] as string).length > 0, key);
  assert.ok(Array.isArray(fm.tags) && fm.tags.includes('nomad') && fm.tags.includes('matrix'));
});

test('every parameter is in the table with its flag, requirement and default', () => {
  for (const p of IMAGE_PARAMETERS) {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${p.name}\` |`));
    assert.ok(row, `${p.name} has a row`);
    const cells = row.split('|').map((c) => c.trim());
    assert.equal(cells[2], p.flag ? `\`${p.flag}\`` : '—', `${p.name}'s flag`);
    if (p.requirement === 'always') assert.match(cells[3] ?? '', /^\*\*yes\*\*/, `${p.name} required`);
    if (p.requirement === 'unless-nossl') assert.match(cells[3] ?? '', /\*\*yes\*\* unless `NOSSL=true`/);
    if (p.defaultValue !== undefined) assert.equal(cells[4], `\`${p.defaultValue}\``, `${p.name}'s default`);
  }
});

test('the sections an operator needs are there', () => {
  for (const heading of ['# Overview', '## The domain: run it on the top-level domain', '## Installation', '## Parameters', '## Persistent storage', '## TLS', '## LDAP', '## Registering the first admin', "## Verifying the image's signature", '## The Nomad job', '# Walk-through: from nothing to a running server']) {
    assert.ok(readme.includes(`\n${heading}\n`), heading);
  }
  assert.match(readme, /sqlite/);
  assert.match(readme, /zfs create -o mountpoint=\/mnt\/matrixdata zroot\/matrixdata/);
  assert.match(readme, /register_new_matrix_user -c \/usr\/local\/etc\/matrix-synapse\/homeserver\.yaml .*http:\/\/127\.0\.0\.1:8008/);
  assert.match(readme, /POT_DEFAULT_SIGNATURE_PUBKEY=/);
  assert.match(readme, new RegExp(`pot import -p ${definition.potName} -t ${definition.version.replace(/\./g, '\\.')} -U \\S+ \\\\\\n\\s+-C `));
});

test('the README shows the shipped job verbatim', () => {
  const job = readFileSync(SHIPPED_JOB, 'utf8');
  assert.ok(readme.includes(`\`\`\`hcl\n${job}\`\`\``), 'write the job again into image/README.md after changing it');
});

test("the walk-through's parameter file renders a job that passes the check", async () => {
  const m = /cat > my-server\.env <<'EOF'\n([\s\S]*?)\n\s*EOF\n/.exec(readme);
  assert.ok(m, 'walk-through writes my-server.env');
  const params = parseParams((m[1] ?? '').replace(/^ +/gm, ''), 'my-server.env');
  const text = renderJobFor(definition, { repoUrl: 'https://images.example.org/matrix-synapse-nomad/', params, serviceProvider: 'nomad' });
  const result = checkJob((await parse('job.nomad', text)) as Record<string, unknown>, { potName: definition.potName, tag: definition.version });
  assert.deepEqual(result.problems, []);
  assert.match(readme, /--params my-server\.env --service-provider nomad --out matrix-synapse\.nomad/);
});

test("cook's flags are the parameters' flags (when the cook is in the tree)", (t) => {
  const params = join(PROJECT_ROOT, 'flavours', `${definition.flavour}.d`, 'libexec', 'params.sh');
  if (!existsSync(params)) {
    t.skip('no cook parameter script in this tree');
    return;
  }
  const text = readFileSync(params, 'utf8');
  const cookFlags = new Map([...text.matchAll(/^\s*([A-Za-z])\) ([A-Z]+)=\$OPTARG/gm)].map((m) => [m[2], `-${m[1]}`]));
  for (const p of IMAGE_PARAMETERS) assert.equal(cookFlags.get(p.name), p.flag, `${p.name}: cook's flag`);
  assert.equal(cookFlags.size, IMAGE_PARAMETERS.filter((p) => p.flag).length);
});

test('docs/image.md names every parameter with its flag (when present)', (t) => {
  const doc = join(PROJECT_ROOT, 'docs', 'image.md');
  if (!existsSync(doc)) {
    t.skip('docs/image.md not written yet');
    return;
  }
  const text = readFileSync(doc, 'utf8');
  for (const p of IMAGE_PARAMETERS) {
    const line = text.split('\n').find((l) => l.includes(`\`${p.name}\``) && (!p.flag || l.includes(`\`${p.flag}\``)));
    assert.ok(line, `docs/image.md mentions ${p.name} with ${p.flag}`);
  }
});
