// Issue 11 rows 1 and 2, as two (or six) CI jobs at once would act: real processes
// released together, round after round, on a real folder and on real nginx WebDAV.
// A race that shows once in ten rounds is caught with high probability (0.9^24 < 8%
// per backend and row, and each row runs on two backends).
import { strict as assert } from 'node:assert';
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { publishImage } from '../../pipeline/repository/publish.js';
import { startNginx, type NginxServer } from '../helpers/nginx.js';
import { tempDir } from '../helpers/tmp.js';
import { makeImage } from './fake-image.js';
import { startWorkers, type Workers } from './race-workers.js';

const base = tempDir('pot-image-races-');
const USER = 'ci';
const PASSWORD = 'race-password-77';
const creds = { POT_IMAGE_REPO_USER: USER, POT_IMAGE_REPO_PASSWORD: PASSWORD };
const LOCK_ROUNDS = 30;
const ORDER_ROUNDS = 24;
const TWO_MINUTES_AGO = () => new Date(Date.now() - 120_000);

let nginx: NginxServer;
let workers: Workers;

interface Backend { name: string; to: (folder: string) => string; dir: (folder: string) => string }

const backends: Backend[] = [
  { name: 'folder', to: (f) => join(base, f), dir: (f) => join(base, f) },
  { name: 'nginx WebDAV', to: (f) => `${nginx.url}${f}/`, dir: (f) => join(nginx.root, f) },
];

/** A lock left by a publisher that crashed two minutes ago, in the backend's own form. */
function staleLock(backend: Backend, dir: string, round: number): void {
  mkdirSync(dir, { recursive: true });
  if (backend.name === 'folder') {
    writeFileSync(join(dir, '.index.lock'), `crashed publisher ${round}\n`);
    utimesSync(join(dir, '.index.lock'), TWO_MINUTES_AGO(), TWO_MINUTES_AGO());
  } else {
    mkdirSync(join(dir, '.index.lock'), { recursive: true });
    writeFileSync(join(dir, '.index.lock', 'owner'), `crashed publisher ${round}\n`);
    utimesSync(join(dir, '.index.lock', 'owner'), TWO_MINUTES_AGO(), TWO_MINUTES_AGO());
  }
}

const brokeLines = (logs: string[][]) => logs.flat().filter((l) => l.startsWith('broke a stale index lock')).length;

before(async () => {
  nginx = await startNginx({ users: { [USER]: PASSWORD } });
  workers = startWorkers(6, creds);
});
after(async () => {
  await workers?.stop();
  await nginx?.stop();
});

for (const backend of backends) {
  describe(`row 1 on ${backend.name}: a stale lock and six publishers starting together`, () => {
    it(`exactly one breaks it and holders never overlap, ${LOCK_ROUNDS} rounds`, async () => {
      const folder = `lock-${backend.name.split(' ')[0]}`;
      const dir = backend.dir(folder);
      for (let round = 1; round <= LOCK_ROUNDS; round++) {
        staleLock(backend, dir, round);
        const answers = await workers.all(Array.from({ length: 6 }, () => ({ op: 'count', to: backend.to(folder) })));
        for (const a of answers) assert.equal(a.ok, true, a.error);
        assert.equal(brokeLines(answers.map((a) => a.logs)), 1, `round ${round}: ${answers.map((a) => a.logs.join(' / ')).join(' | ')}`);
        assert.equal(readFileSync(join(dir, 'counter'), 'utf8'), String(6 * round), `round ${round}: a lock holder overlapped another`);
      }
      assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.')), [], 'no lock, marker or temporary left');
    });

    it('end to end: all six publishes complete and all six tags are listed', async () => {
      const folder = `e2e-${backend.name.split(' ')[0]}`;
      for (let round = 1; round <= 3; round++) {
        staleLock(backend, backend.dir(folder), round);
        const tags = Array.from({ length: 6 }, (_, i) => `${round}.${i}.0`);
        const dirs = tags.map((t) => makeImage(base, t, { bytes: 4096, pot: 'race-amd64-13_0' }));
        const answers = await workers.all(tags.map((tag, i) => ({ op: 'publish', options: { from: dirs[i], pot: 'race-amd64-13_0', tag, to: backend.to(folder), allowOlder: true } })));
        for (const a of answers) assert.equal(a.ok, true, a.error);
        assert.equal(brokeLines(answers.map((a) => a.logs)), 1);
        const index = JSON.parse(readFileSync(join(backend.dir(folder), 'index.json'), 'utf8'));
        for (const tag of tags) assert.ok(index.pots['race-amd64-13_0'].tags[tag], `round ${round}: ${tag} missing from index.json`);
      }
    });
  });

  describe(`row 2 on ${backend.name}: two publishers racing on versions`, () => {
    it(`versions never go backwards and equal precedence is refused, ${ORDER_ROUNDS} rounds`, async () => {
      // Three rounds at a time, each in its own repository folder, two workers each.
      for (let batch = 0; batch < ORDER_ROUNDS / 3; batch++) {
        const rounds = [0, 1, 2].map((i) => {
          const round = batch * 3 + i + 1;
          const folder = `order-${backend.name.split(' ')[0]}-${round}`;
          return { round, folder, dir: backend.dir(folder), pot: `order${round}-amd64-13_0` };
        });
        const publish = (r: (typeof rounds)[number], tag: string) => ({ op: 'publish', options: { from: makeImage(base, tag, { pot: r.pot, bytes: 4096 }), pot: r.pot, tag, to: backend.to(r.folder) } });
        await Promise.all(rounds.map((r) => publishImage({ from: makeImage(base, '1.0.0', { pot: r.pot, bytes: 2048 }), pot: r.pot, tag: '1.0.0', to: backend.to(r.folder), env: creds })));

        const versions = await workers.all(rounds.flatMap((r) => [publish(r, '3.0.0'), publish(r, '2.5.0')]));
        rounds.forEach((r, i) => {
          const [high, low] = [versions[2 * i]!, versions[2 * i + 1]!];
          assert.equal(high.ok, true, `round ${r.round}: 3.0.0: ${high.error}`);
          const index = JSON.parse(readFileSync(join(r.dir, 'index.json'), 'utf8'));
          if (low.ok) {
            // Both may succeed only in version order: 2.5.0 became visible before 3.0.0 was checked.
            const t = index.pots[r.pot].tags;
            assert.ok(Date.parse(t['2.5.0'].published) <= Date.parse(t['3.0.0'].published), `round ${r.round}: 2.5.0 was published after 3.0.0`);
          } else {
            assert.equal(low.exitCode, 1);
            assert.match(low.error!, /already has the newer 3\.0\.0/);
            assert.equal(index.pots[r.pot].tags['2.5.0'], undefined);
            assert.deepEqual(readdirSync(r.dir).filter((n) => n.includes(`${r.pot}_2.5.0`)), [], `round ${r.round}: the refused tag left files`);
          }
        });

        const equal = await workers.all(rounds.flatMap((r) => [publish(r, '4.0.0'), publish(r, '4.0.0+build.7')]));
        rounds.forEach((r, i) => {
          const [a, b] = [equal[2 * i]!, equal[2 * i + 1]!];
          assert.equal([a, b].filter((x) => x.ok).length, 1, `round ${r.round}: ${a.error ?? 'ok'} / ${b.error ?? 'ok'}`);
          assert.match((a.ok ? b : a).error!, /the same version; publish under a higher tag/);
          const index = JSON.parse(readFileSync(join(r.dir, 'index.json'), 'utf8'));
          assert.equal(Object.keys(index.pots[r.pot].tags).filter((t) => t.startsWith('4.0.0')).length, 1, `round ${r.round}: both 4.0.0 and 4.0.0+build listed`);
          const refusedTag = a.ok ? '4.0.0+build.7' : '4.0.0';
          assert.deepEqual(readdirSync(r.dir).filter((n) => n.includes(`${r.pot}_${refusedTag}.`)), [], `round ${r.round}: the refused tag left files`);
        });
      }
    });
  });
}
