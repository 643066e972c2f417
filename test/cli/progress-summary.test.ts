// Long transfers show bytes, rate and time left (a redrawn line on a terminal, plain lines in a
// log); publish ends with a summary and warns about an unsigned image; a mistyped repository
// path is refused, not created.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { progressLine } from '../../pipeline/artifacts/progress.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { makeImage, makeKeyPair, POT } from '../repository/fake-image.js';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, write: (s: string) => { writes.push(s); return true; } } as unknown as NodeJS.WriteStream };
}

describe('progress', () => {
  const GiB = 1024 ** 3;

  it('on a terminal: one redrawn line with bytes, total, rate and time left', () => {
    let now = 0;
    const { writes, stream } = fakeStream(true);
    const p = progressLine('upload x.xz', stream, { now: () => now, env: {} });
    now = 4000;
    p.update(GiB / 2, 2 * GiB);
    p.done();
    assert.match(writes[0]!, /^\r\x1b\[2Kupload x\.xz \[#{6}\.{18}\] 512\.0 MiB \/ 2\.0 GiB 25% 128\.0 MiB\/s 0:12 left$/);
    assert.equal(writes.at(-1), '\n');
  });

  it('in a log or CI: quiet for short transfers, then a plain line per quarter and a last line', () => {
    for (const [isTTY, env] of [[false, {}], [true, { CI: 'true' }]] as const) {
      let now = 0;
      const { writes, stream } = fakeStream(isTTY);
      const p = progressLine('check x.xz', stream, { now: () => now, env });
      now = 1000;
      p.update(GiB, 2 * GiB); // before 2 s: nothing
      assert.deepEqual(writes, []);
      now = 3000;
      p.update(GiB + 1, 2 * GiB);
      p.update(GiB + 2, 2 * GiB); // same quarter: no second line
      now = 4000;
      p.update(1.6 * GiB, 2 * GiB);
      now = 5000;
      p.update(2 * GiB, 2 * GiB);
      p.done();
      assert.equal(writes.length, 3, writes.join(''));
      assert.match(writes[0]!, /^check x\.xz: 1\.0 GiB \/ 2\.0 GiB \(50%\), 341\.3 MiB\/s, 0:03 left\n$/);
      assert.match(writes[1]!, /\(80%\)/);
      assert.match(writes[2]!, /^check x\.xz: 2\.0 GiB in 0:05 \(409\.6 MiB\/s\)\n$/);
      assert.ok((writes as string[]).every((w) => !w.includes('\r')), 'no terminal control in a log');
    }
  });

  it('a short transfer in a log prints nothing at all', () => {
    const { writes, stream } = fakeStream(false);
    const p = progressLine('x', stream, { env: {} });
    p.update(10, 10);
    p.done();
    assert.deepEqual(writes, []);
  });
});

describe('publish: summary, unsigned warning, repository folder', () => {
  const dir = tempDir('pot-image-publish-cli-');
  const keys = makeKeyPair(dir, 'k');

  it('ends with the summary (also in --json) and names the signing key', async () => {
    const from = makeImage(join(dir, 'a'), '2.0.0', { key: keys });
    const repo = join(dir, 'repo');
    const r = await runCli(['publish', '--from', from, '--pot', POT, '--tag', '2.0.0', '--to', repo, '--public-key', keys.pub]);
    assert.equal(r.code, 0, r.stderr);
    const skein = readFileSync(join(from, `${POT}_2.0.0.xz.skein`), 'utf8').trim();
    const keyNumber = Buffer.from(readFileSync(keys.pub, 'utf8').split('\n')[1]!, 'base64').subarray(2, 10).toString('hex');
    assert.match(r.stdout, /^summary$/m);
    assert.match(r.stdout, new RegExp(`^  image +${POT}$`, 'm'));
    assert.match(r.stdout, /^ {2}tag +2\.0\.0$/m);
    assert.match(r.stdout, /^ {2}size +\d+(\.\d)? [KM]?i?B \(\d+ bytes, \.xz\)$/m);
    assert.match(r.stdout, new RegExp(`^  Skein-1024 +${skein}$`, 'm'));
    assert.match(r.stdout, new RegExp(`^  signed +key number ${keyNumber}$`, 'm'));
    assert.match(r.stdout, new RegExp(`^  repository +${repo.replace(/[/.]/g, '\\$&')}`, 'm'));
    assert.match(r.stdout, /^ {2}time: upload +\d/m);
    assert.match(r.stdout, /^ {2}time: consumer check +\d/m);
    assert.match(r.stdout, /^ {2}time: total +\d/m);
    assert.doesNotMatch(r.stderr, /UNSIGNED/);

    const again = await runCli(['publish', '--from', from, '--pot', POT, '--tag', '2.0.0', '--to', repo, '--json']);
    assert.equal(again.code, 0, again.stderr);
    const doc = JSON.parse(again.stdout) as Record<string, unknown>;
    assert.equal(doc.ok, true);
    assert.equal(doc.outcome, 'unchanged');
    assert.equal(doc.image, POT);
    assert.equal(doc.tag, '2.0.0');
    assert.equal(doc.skein1024, skein);
    assert.equal(doc.keyNumber, keyNumber);
    assert.equal(typeof doc.size, 'number');
    assert.deepEqual(Object.keys(doc.steps as object), ['upload', 'consumer check']);
  });

  it('publishing an unsigned image warns; --require-signature refuses it', async () => {
    const from = makeImage(join(dir, 'u'), '1.0.0');
    rmSync(join(from, `${POT}_1.0.0.xz.skein.sig`), { force: true });
    const repo = join(dir, 'repo-unsigned');
    const refused = await runCli(['publish', '--from', from, '--pot', POT, '--tag', '1.0.0', '--to', repo, '--require-signature']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /has no signature .* sign it first: pot-image sign --secret-key/);
    assert.ok(!existsSync(repo), 'nothing published');
    const r = await runCli(['publish', '--from', from, '--pot', POT, '--tag', '1.0.0', '--to', repo]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^pot-image: warning: publishing UNSIGNED: .*pot import -C/m);
    assert.match(r.stdout, /^ {2}signed +NO: unsigned image$/m);
  });

  it('a repository path whose parent is missing is refused (a typo), unless --create', async () => {
    const from = makeImage(join(dir, 'c'), '1.0.0', { key: keys });
    const typo = join(dir, 'no-such-parent', 'repo');
    const r = await runCli(['publish', '--from', from, '--pot', POT, '--tag', '1.0.0', '--to', typo]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--to .*no-such-parent\/repo: neither the folder nor its parent .* exists; check the path, or pass --create/);
    assert.ok(!existsSync(join(dir, 'no-such-parent')), 'nothing created');
    const made = await runCli(['publish', '--from', from, '--pot', POT, '--tag', '1.0.0', '--to', typo, '--create']);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stderr, /note: created the new repository folder/);
    mkdirSync(join(dir, 'beside'));
    const beside = await runCli(['publish', '--from', from, '--pot', POT, '--tag', '1.0.0', '--to', join(dir, 'beside', 'repo')]);
    assert.equal(beside.code, 0, beside.stderr);
    assert.match(beside.stderr, /note: created the new repository folder .*beside\/repo/);
  });
});
