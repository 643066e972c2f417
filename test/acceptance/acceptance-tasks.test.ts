import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Listr } from 'listr2';
import { computeInputFingerprint } from '../../pipeline/acceptance/input-fingerprint.js';
import type { PackagesManifest } from '../../pipeline/acceptance/package-manifest.js';
import { UserError } from '../../pipeline/errors.js';
import { LocalHost } from '../../pipeline/builder/local-host.js';
import { PlanBook, PlanHost } from '../../pipeline/builder/plan-host.js';
import { InputsUnchanged, acceptanceTasks, reuseCheckTask } from '../../pipeline/steps/acceptance-tasks.js';
import { artifactPaths, type BuildContext, type BuildOptions } from '../../pipeline/steps/context.js';
import { tempDir } from '../helpers/tmp.js';
import { FakeRunner } from './fake-runner.js';
import { testProject, type TestProject } from './project.js';
import { SynapseStandIn } from './synapse-stand-in.js';

const POT = 'matrix-synapse-nomad-amd64-13_0';
const PACKAGES = 'nginx\twww/nginx\t1.24.0_12,3\npy311-matrix-synapse\tnet-im/py-matrix-synapse\t1.98.0\nsqlite3\tdatabases/sqlite3\t3.45.1,1\n';
const VULN = JSON.stringify({
  pkg_count: 1,
  packages: { nginx: { version: '1.24.0_12,3', issue_count: 1, issues: [{ description: 'nginx -- bug', cve: ['CVE-2026-1111'], url: 'https://vuxml.FreeBSD.org/freebsd/aaaa-bbbb.html' }] } },
});

const servers: SynapseStandIn[] = [];
after(async () => { for (const s of servers) await s.stop(); });

const OPTIONS: BuildOptions = { dryRun: false, keep: false, verbose: false, json: false, requireSignature: false, skipSmokeTest: false, rebuild: false, allowOlder: false, noPublish: false };

interface World { project: TestProject; runner: FakeRunner; ctx: BuildContext; notes: string[]; server: SynapseStandIn; repo: string }

async function world(options: Partial<BuildOptions> = {}, runner: Partial<ConstructorParameters<typeof FakeRunner>[0]> = {}, allowYaml = ''): Promise<World> {
  const server = new SynapseStandIn();
  servers.push(server);
  const url = await server.start();
  const project = testProject();
  project.write(`acceptance:\n  smoke_test: { url: "${url}", timeout_seconds: 10 }\n${allowYaml}`);
  const definition = project.load();
  mkdirSync(definition.export.output, { recursive: true });
  const fake = new FakeRunner({ pots: [POT], fsRoot: tempDir('acc-fs-'), onStart: (_p, env) => server.boot(env), packagesTsv: PACKAGES, ...runner });
  mkdirSync(join(fake.o.fsRoot, 'jails', POT, 'm'), { recursive: true });
  const notes: string[] = [];
  const ctx: BuildContext = {
    definition,
    options: { ...OPTIONS, ...options },
    runner: new LocalHost(fake),
    home: new LocalHost(fake),
    written: [],
    artifacts: artifactPaths(definition.export.output, definition.potName, definition.tag),
    note: (l) => notes.push(l),
    warnings: [],
    potCreated: true,
    summary: {},
    durations: {},
  };
  return { project, runner: fake, ctx, notes, server, repo: definition.publish.to! };
}

function publish(w: World, tag: string, fingerprint: string, packages = [{ name: 'nginx', origin: 'www/nginx', version: '1.22.1' }, { name: 'py311-matrix-synapse', origin: 'net-im/py-matrix-synapse', version: '1.98.0' }]): void {
  mkdirSync(w.repo, { recursive: true });
  writeFileSync(join(w.repo, 'index.json'), JSON.stringify({ pots: { [POT]: { tags: { [tag]: { files: {} } } } } }));
  writeFileSync(join(w.repo, `${POT}_${tag}.packages.json`), JSON.stringify({ schema: 1, pot: POT, tag, inputs: { fingerprint }, packages }));
}

const run = (ctx: BuildContext) => new Listr([reuseCheckTask(), ...acceptanceTasks()], { ctx, renderer: 'silent', exitOnError: true }).run();

describe('acceptance step in the build', () => {
  it('passes: smoke test, manifest with packages, audit and fingerprint', async () => {
    const w = await world();
    await run(w.ctx);
    assert.ok(w.runner.potVerbs().includes('clone'));
    const m = JSON.parse(readFileSync(w.ctx.artifacts.packages, 'utf8')) as PackagesManifest;
    assert.equal(m.pot, POT);
    assert.equal(m.tag, '0.11.0');
    assert.deepEqual(m.packages.map((p) => p.name), ['nginx', 'py311-matrix-synapse', 'sqlite3']);
    assert.equal(m.audit.status, 'clean');
    assert.equal(m.smokeTest.status, 'passed');
    assert.equal(m.inputs.fingerprint, computeInputFingerprint(w.ctx.definition).fingerprint);
    const pkgCalls = w.runner.calls.filter((c) => c.command === 'pkg');
    assert.deepEqual(pkgCalls[0]!.args.slice(0, 3), ['-c', join(w.runner.o.fsRoot, 'jails', POT, 'm'), 'query']);
    assert.deepEqual(pkgCalls[1]!.args, ['audit', '-F', '--raw=json', 'nginx-1.24.0_12,3', 'py311-matrix-synapse-1.98.0', 'sqlite3-3.45.1,1']);
    const summary = w.ctx.summary.acceptance as Record<string, { status?: string; count?: number }>;
    assert.equal(summary.smokeTest!.status, 'passed');
    assert.equal(summary.packages!.count, 3);
    assert.deepEqual(w.ctx.warnings, []);
  });

  it('stops successfully when the inputs equal the last published tag', async () => {
    const w = await world();
    publish(w, '0.10.2', computeInputFingerprint(w.ctx.definition).fingerprint);
    await assert.rejects(run(w.ctx), (e: unknown) => {
      assert.ok(e instanceof InputsUnchanged);
      assert.ok(e instanceof UserError);
      assert.equal(e.exitCode, 0, 'not a failure');
      assert.match(e.message, /unchanged since the published 0\.10\.2; nothing to do\. Pass --rebuild/);
      return true;
    });
    assert.deepEqual(w.runner.calls, [], 'no smoke test, no audit');
    assert.ok(!existsSync(w.ctx.artifacts.packages));
  });

  it('in a plan, unchanged inputs are a warning and a comment, and the plan goes on', async () => {
    const w = await world({ dryRun: true });
    w.ctx.runner = new PlanHost(new PlanBook());
    publish(w, '0.10.2', computeInputFingerprint(w.ctx.definition).fingerprint);
    await new Listr([reuseCheckTask()], { ctx: w.ctx, renderer: 'silent', exitOnError: true }).run();
    assert.match(w.ctx.warnings.join('\n'), /unchanged since the published 0\.10\.2; nothing to do\. Pass --rebuild/);
    assert.ok(w.notes.some((l) => /^# a build would stop here: the inputs .* are unchanged since the published 0\.10\.2/.test(l)), w.notes.join('\n'));
  });

  it('builds when the inputs changed since the last published tag', async () => {
    const w = await world();
    publish(w, '0.10.2', 'sha256:something-else');
    await run(w.ctx);
    assert.ok(existsSync(w.ctx.artifacts.packages));
    assert.equal((w.ctx.summary.acceptance as { inputs: { unchanged: boolean } }).inputs.unchanged, false);
  });

  it('--rebuild builds anyway and prints the package diff against the last published tag', async () => {
    const w = await world({ rebuild: true });
    publish(w, '0.10.2', computeInputFingerprint(w.ctx.definition).fingerprint);
    await run(w.ctx);
    const diff = (w.ctx.summary.acceptance as { packageDiff: { from: string; changed: { name: string; from: string; to: string }[]; added: { name: string }[] } }).packageDiff;
    assert.equal(diff.from, '0.10.2');
    assert.deepEqual(diff.changed, [{ name: 'nginx', origin: 'www/nginx', from: '1.22.1', to: '1.24.0_12,3' }]);
    assert.deepEqual(diff.added.map((p) => p.name), ['sqlite3']);
    assert.ok(w.notes.includes('# packages 0.10.2 → 0.11.0: 1 changed, 1 added, 0 removed'));
    assert.ok(w.notes.includes('#   ~ nginx (www/nginx) 1.22.1 → 1.24.0_12,3'));
    assert.ok(w.notes.some((n) => /unchanged since the published 0\.10\.2; rebuilding as asked/.test(n)));
  });

  it('--skip-smoke-test is loud and recorded', async () => {
    const w = await world({ skipSmokeTest: true });
    await run(w.ctx);
    assert.ok(!w.runner.potVerbs().includes('clone'));
    assert.equal(w.ctx.warnings.length, 1);
    assert.match(w.ctx.warnings[0]!, /SMOKE TEST SKIPPED \(--skip-smoke-test\): this image was NOT booted/);
    const m = JSON.parse(readFileSync(w.ctx.artifacts.packages, 'utf8')) as PackagesManifest;
    assert.equal(m.smokeTest.status, 'skipped');
  });

  it('fails the build on a vulnerable package and writes no manifest', async () => {
    const w = await world({}, { audit: { exitCode: 1, stdout: VULN } });
    await assert.rejects(run(w.ctx), /1 vulnerable package\(s\): nginx-1\.24\.0_12,3: aaaa-bbbb CVE-2026-1111 <https:\/\/vuxml\.FreeBSD\.org\/freebsd\/aaaa-bbbb\.html>/);
    assert.ok(!existsSync(w.ctx.artifacts.packages));
  });

  it('ships an allow-listed vulnerability with a warning, and records it in the manifest', async () => {
    const w = await world({}, { audit: { exitCode: 1, stdout: VULN } }, '  audit_allow:\n    - { package: nginx, id: CVE-2026-1111, reason: "mail module only", expires: 2999-12-31 }\n');
    await run(w.ctx);
    const m = JSON.parse(readFileSync(w.ctx.artifacts.packages, 'utf8')) as PackagesManifest;
    assert.equal(m.audit.status, 'allowed');
    assert.deepEqual(m.audit.findings[0]!.allowed, { reason: 'mail module only', expires: '2999-12-31' });
    assert.match(w.ctx.warnings.join('\n'), /nginx-1\.24\.0_12,3 is vulnerable .* allow-listed until 2999-12-31/);
  });

  it('an expired allow-list entry no longer counts', async () => {
    const w = await world({}, { audit: { exitCode: 1, stdout: VULN } }, '  audit_allow:\n    - { package: nginx, id: CVE-2026-1111, reason: "mail module only", expires: 2020-01-31 }\n');
    await assert.rejects(run(w.ctx), /1 vulnerable package\(s\): nginx.*expired allow-list entries do not count: nginx CVE-2026-1111 expired 2020-01-31/);
    assert.match(w.ctx.warnings.join('\n'), /expired on 2020-01-31/);
  });

  it('a failing smoke test fails the build before the audit', async () => {
    const w = await world();
    w.server.faults = { login: 'forbidden' };
    await assert.rejects(run(w.ctx), /login: POST \/_matrix\/client\/v3\/login answered HTTP 403/);
    assert.ok(!w.runner.calls.some((c) => c.command === 'pkg'));
    assert.equal((w.ctx.summary.acceptance as { smokeTest: { status: string } }).smokeTest.status, 'failed');
    assert.deepEqual([...w.runner.pots], [POT]);
  });

  it('a bad allow-list fails with exit 2 before anything runs', async () => {
    const w = await world({}, {}, '  audit_allow:\n    - { package: nginx, id: CVE-1, reason: r, expires: soon }\n');
    await assert.rejects(run(w.ctx), (e: unknown) => e instanceof UserError && e.exitCode === 2 && /expires: 'soon' is not a date/.test(e.message));
    assert.deepEqual(w.runner.calls, []);
  });

  it('a smoke-test PostgreSQL without its password in the environment fails with exit 2 before anything runs; --skip-smoke-test does not ask', async () => {
    delete process.env.POT_IMAGE_TEST_UNSET_PG;
    const pg = '    postgresql: { host: db.example.org, password_env: POT_IMAGE_TEST_UNSET_PG }\n';
    const w = await world({}, {}, '');
    w.project.write(`acceptance:\n  smoke_test:\n    url: "http://127.0.0.1:9"\n${pg}`);
    await assert.rejects(run(w.ctx), (e: unknown) => e instanceof UserError && e.exitCode === 2 && /POT_IMAGE_TEST_UNSET_PG is not set: export the database password/.test(e.message));
    assert.deepEqual(w.runner.calls, []);
    const skipping = await world({ skipSmokeTest: true }, {}, '');
    skipping.project.write(`acceptance:\n  smoke_test:\n    url: "http://127.0.0.1:9"\n${pg}`);
    await run(skipping.ctx);
    assert.ok(!skipping.runner.potVerbs().includes('clone'));
  });

  it('plans the smoke test and the audit in a dry run', async () => {
    const w = await world({ dryRun: true });
    const plan = new PlanHost(new PlanBook());
    w.ctx.runner = plan;
    w.ctx.home = plan;
    w.ctx.note = (l) => plan.record(l);
    await run(w.ctx);
    const text = plan.lines.join('\n');
    for (const expected of [`pot clone -P ${POT} -p ${POT}-smoke-`, 'pot set-env', 'secrets/matrix-synapse.env', 'pot start -p', '/health', '/_matrix/client/v3/login', 'pot destroy -F -p', `pkg -c /opt/pot/jails/${POT}/m query`, 'pkg audit -F --raw=json NAME-VERSION', '.packages.json']) {
      assert.ok(text.includes(expected), `plan mentions ${expected}:\n${text}`);
    }
    assert.ok(!existsSync(w.ctx.artifacts.packages));
  });
});
