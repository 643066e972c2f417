import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { computeInputFingerprint, flavourFiles, readLastPublished } from '../../pipeline/acceptance/input-fingerprint.js';
import { tempDir } from '../helpers/tmp.js';
import { FLAVOUR, testProject } from './project.js';

const POT = 'matrix-synapse-nomad-amd64-13_0';

describe('input fingerprint', () => {
  it('ignores the version, comments and where the image goes', () => {
    const p = testProject();
    const a = computeInputFingerprint(p.load()).fingerprint;
    assert.match(a, /^sha256:[0-9a-f]{64}$/);
    p.write('', '0.11.1');
    assert.equal(computeInputFingerprint(p.load()).fingerprint, a, 'version bump alone');
    writeFileSync(join(p.root, 'flavours', `${FLAVOUR}.d`, 'image-version'), '0.11.1\n');
    assert.equal(computeInputFingerprint(p.load()).fingerprint, a, "the payload's copy of the version");
    appendFileSync(p.file, '# a comment\nsign:\n  key: ""\nacceptance:\n  audit_allow: []\n');
    assert.equal(computeInputFingerprint(p.load()).fingerprint, a, 'comment, sign and acceptance sections');
    writeFileSync(join(p.root, 'flavours', 'other-flavour'), 'changed\n');
    assert.equal(computeInputFingerprint(p.load()).fingerprint, a, 'another flavour in the same folder');
  });

  it('changes with a flavour file, the payload, the release or the network', () => {
    const p = testProject();
    const base = computeInputFingerprint(p.load()).fingerprint;
    const seen = new Set([base]);
    const expectNew = (what: string, fp: string) => {
      assert.ok(!seen.has(fp), `${what} changes the fingerprint`);
      seen.add(fp);
    };
    expectNew('--release 14.3', computeInputFingerprint(p.load({ release: '14.3' })).fingerprint);
    expectNew('--network inherit', computeInputFingerprint(p.load({ network: 'inherit' })).fingerprint);
    writeFileSync(join(p.root, 'flavours', `${FLAVOUR}.d`, 'cook'), '#!/bin/sh\necho cook v2\n');
    expectNew('cook', computeInputFingerprint(p.load()).fingerprint);
    writeFileSync(join(p.root, 'flavours', `${FLAVOUR}.d`, 'nginx.conf'), 'events {}\n');
    expectNew('a new payload file', computeInputFingerprint(p.load()).fingerprint);
    writeFileSync(join(p.root, 'flavours', `${FLAVOUR}.sh`), '#!/bin/sh\npkg install -y www/nginx\n');
    expectNew('the build script', computeInputFingerprint(p.load()).fingerprint);
  });

  it("lists the flavour's own files only", () => {
    const p = testProject();
    assert.deepEqual(Object.keys(flavourFiles(join(p.root, 'flavours'), FLAVOUR)).sort(), [FLAVOUR, `${FLAVOUR}+4`, `${FLAVOUR}.d/cook`, `${FLAVOUR}.sh`]);
  });
});

function repoWith(index: unknown, manifests: Record<string, unknown> = {}): string {
  const dir = tempDir('acc-repo-');
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  for (const [name, body] of Object.entries(manifests)) writeFileSync(join(dir, name), JSON.stringify(body));
  return dir;
}

describe('last published tag', () => {
  it('is undefined when nothing is published', async () => {
    assert.equal(await readLastPublished(join(tempDir(), 'nothing'), POT), undefined);
    assert.equal(await readLastPublished(repoWith({ pots: { 'other-pot': { tags: { '1.0.0': {} } } } }), POT), undefined);
  });

  it('picks the highest semver tag and its manifest fingerprint (tags keyed by tag)', async () => {
    const dir = repoWith(
      { pots: { [POT]: { tags: { '0.9.0': {}, '0.10.2': {}, '0.10.10': {} } } } },
      { [`${POT}_0.10.10.packages.json`]: { inputs: { fingerprint: 'sha256:abc' }, packages: [{ name: 'nginx', origin: 'www/nginx', version: '1.24' }] } },
    );
    const last = await readLastPublished(dir, POT);
    assert.equal(last?.tag, '0.10.10');
    assert.equal(last?.fingerprint, 'sha256:abc');
    assert.equal(last?.manifest?.packages.length, 1);
    assert.equal((await readLastPublished(`file://${dir}`, POT))?.tag, '0.10.10');
  });

  it("reads the publisher's index (format pot-image-repository/1, files.packages = {name, size})", async () => {
    const name = `${POT}_0.11.0.packages.json`;
    const dir = repoWith(
      { format: 'pot-image-repository/1', updated: '2026-11-26T00:00:00Z', pots: { [POT]: { tags: { '0.11.0': { tag: '0.11.0', files: { xz: { name: `${POT}_0.11.0.xz`, size: 1 }, packages: { name, size: 10 } }, skein: 'ab', signed: false, keyFingerprint: null, published: '2026-11-26T00:00:00Z', freebsdRelease: '13.0', imageVersion: '0.11.0' } } } } },
      { [name]: { inputs: { fingerprint: 'sha256:pub' }, packages: [] } },
    );
    const last = await readLastPublished(dir, POT);
    assert.equal(last?.tag, '0.11.0');
    assert.equal(last?.fingerprint, 'sha256:pub');
    assert.equal(last?.source, join(dir, name));
  });

  it('reads a list of tag entries and a fingerprint recorded in the index itself', async () => {
    const dir = repoWith({ pots: { [POT]: { tags: [{ tag: '0.11.0', inputs: { fingerprint: 'sha256:idx' }, files: { packages: 'custom.json' } }, { tag: '0.2.0' }] } } });
    const last = await readLastPublished(dir, POT);
    assert.equal(last?.tag, '0.11.0');
    assert.equal(last?.fingerprint, 'sha256:idx');
    assert.equal(last?.manifest, undefined);
    assert.match(last!.source, /custom\.json$/);
  });

  it('reads an HTTP repository and treats a missing manifest as "no fingerprint"', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/repo/index.json') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ pots: { [POT]: { tags: { '0.10.2': {} } } } }));
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const last = await readLastPublished(`http://127.0.0.1:${(server.address() as AddressInfo).port}/repo/`, POT);
      assert.equal(last?.tag, '0.10.2');
      assert.equal(last?.fingerprint, undefined);
    } finally {
      server.close();
    }
  });

  it('says which index is broken', async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'index.json'), '<html>');
    await assert.rejects(readLastPublished(dir, POT), /index\.json is not JSON/);
  });
});
