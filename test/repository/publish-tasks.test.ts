// The build's publish steps: dry-run notes, skipping, publishing the build's
// artifacts and verifying them from the repository; and `pot-image build`
// against the pot stand-in ending with the image published and verified.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Listr } from 'listr2';
import type { ImageDefinition } from '../../pipeline/definition/types.js';
import { artifactPaths, type BuildContext, type BuildOptions } from '../../pipeline/steps/context.js';
import { publishTasks } from '../../pipeline/steps/publish-tasks.js';
import type { BuilderHost } from '../../pipeline/builder/host.js';
import { LocalHost } from '../../pipeline/builder/local-host.js';
import { PlanBook, PlanHost } from '../../pipeline/builder/plan-host.js';
import { tempDir } from '../helpers/tmp.js';
import { POT_NAME, TAG, sandbox } from '../pipeline/builder-sandbox.js';
import { verifyImage } from '../../pipeline/artifacts/verify.js';
import { POT, makeImage, makeKeyPair, readJson } from './fake-image.js';

const base = tempDir('pot-image-publish-tasks-');
const key = makeKeyPair(base);

function context(output: string, tag: string, publish: ImageDefinition['publish'], options: Partial<BuildOptions> = {}, sign: ImageDefinition['sign'] = {}) {
  const book = new PlanBook();
  const definition = {
    potName: POT, tag, version: tag,
    freebsd: { release: '13.0', potRelease: '13.0', major: 13, minor: 0, arch: 'amd64' },
    sign, publish,
  } as unknown as ImageDefinition;
  const ctx: BuildContext = {
    definition,
    options: { dryRun: false, keep: false, verbose: false, json: false, requireSignature: false, skipSmokeTest: true, rebuild: false, allowOlder: false, noPublish: false, ...options },
    runner: {} as BuilderHost,
    home: options.dryRun ? new PlanHost(book) : new LocalHost(),
    written: [],
    artifacts: artifactPaths(output, POT, tag),
    note: (line) => { book.record(line); },
    warnings: [],
    potCreated: false,
    summary: {},
    durations: {},
  };
  // The plan's lines so far (a fresh list each time it is read).
  return { ctx, notes: () => book.lines };
}

async function run(ctx: BuildContext): Promise<void> {
  await new Listr(publishTasks(), { ctx, renderer: 'silent', exitOnError: true }).run();
}

describe('publish steps of the build', () => {
  it('in --dry-run notes the publish and verify commands and touches nothing', async () => {
    const repo = join(base, 'dry-repo');
    const out = makeImage(base, '1.0.0', { key });
    const { ctx, notes } = context(out, '1.0.0', { to: repo, publicUrl: 'https://images.example.org/msn/' }, { dryRun: true, allowOlder: true }, { publicKey: key.pub });
    await run(ctx);
    assert.deepEqual(notes(), [
      `pot-image publish --from ${out} --pot ${POT} --tag 1.0.0 --to ${repo} --public-key ${key.pub} --public-url https://images.example.org/msn/ --allow-older`,
      `pot-image verify --public-url https://images.example.org/msn/ --pot ${POT} --tag 1.0.0 --public-key ${key.pub}`,
    ]);
    assert.equal(existsSync(repo), false);
  });

  it('is skipped with --no-publish or without publish.to', async () => {
    const out = makeImage(base, '1.0.0', { key });
    const repo = join(base, 'skipped-repo');
    for (const [publish, options] of [[{ to: repo }, { noPublish: true }], [{}, {}]] as const) {
      const { ctx, notes } = context(out, '1.0.0', publish, options);
      await run(ctx);
      assert.deepEqual(notes(), []);
      assert.equal(ctx.summary.publish, undefined);
    }
    assert.equal(existsSync(repo), false);
  });

  it('publishes the artifacts and verifies the signature with the public half of sign.key', async () => {
    const repo = join(base, 'repo');
    const out = makeImage(base, '1.0.0', { key });
    const { ctx } = context(out, '1.0.0', { to: repo }, {}, { key: key.sec });
    await run(ctx);
    const summary = ctx.summary.publish as Record<string, unknown>;
    assert.equal(summary.outcome, 'published');
    assert.equal(summary.signature, 'verified');
    assert.deepEqual(ctx.warnings, []);
    assert.ok(readJson(join(repo, 'index.json')).pots[POT].tags['1.0.0']);

    // An older tag needs allowOlder, exactly like --allow-older.
    const older = makeImage(base, '0.9.0', { key });
    await assert.rejects(run(context(older, '0.9.0', { to: repo }, {}, { key: key.sec }).ctx), /already has the newer 1\.0\.0/);
    const allowed = context(older, '0.9.0', { to: repo }, { allowOlder: true }, { key: key.sec });
    await run(allowed.ctx);
    assert.equal((allowed.ctx.summary.publish as Record<string, unknown>).outcome, 'published');
  });

  it('npm run build-image (pot stand-in) ends with the image published to publish.to and verified from it', async () => {
    const s = sandbox();
    const r = await s.build(['--secret-key', key.sec, '--public-key', key.pub], {}, { publish: true });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout + r.stderr, /publish: verified from .* \(digest and signature\)/);
    const files = readdirSync(s.repo).sort();
    for (const suffix of ['.xz', '.xz.meta', '.xz.skein', '.xz.skein.sig']) assert.ok(files.includes(`${POT_NAME}_${TAG}${suffix}`), `${suffix} in ${files.join(', ')}`);
    assert.ok(!files.some((f) => f.startsWith('.')), 'no temporaries or lock left');
    const entry = readJson(join(s.repo, 'index.json')).pots[POT_NAME].tags[TAG];
    assert.equal(entry.signed, true);
    assert.equal(entry.freebsdRelease, '14.5');
    const verified = await verifyImage({ baseUrl: s.repo, pot: POT_NAME, tag: TAG, publicKeyFile: key.pub });
    assert.equal(verified.ok, true, verified.failure?.message);
  });
});
