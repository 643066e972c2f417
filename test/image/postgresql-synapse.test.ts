// The real move, where a Synapse is on the machine (TEST_SYNAPSE_COMMAND, with
// synapse_port_db beside it): a server created on sqlite with users, a room and
// messages is moved to a real PostgreSQL by cook with Synapse's own
// synapse_port_db, and afterwards everyone logs in and reads the room; and a new
// server on PostgreSQL boots and its admin logs in. Synapse runs on the host with
// the homeserver.yaml cook rendered (paths under /mnt mapped to the test's folder).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/tmp.js';
import { signalJail } from '../../scripts/cook-render.js';
import { cook, jailUnavailable, MINIMAL, SHARED_SECRET, type Rendered } from './jail.js';
import { createSynapseDatabase, postgresServer, postgresUnavailable, seedWith } from './postgresql-server.js';

const SYNAPSE = process.env.TEST_SYNAPSE_COMMAND ?? '';
const PASSWORD = 'db pass "with" $pecial & chars';

function synapseUnavailable(): string | undefined {
  if (!SYNAPSE) return 'TEST_SYNAPSE_COMMAND is not set';
  for (const tool of [SYNAPSE, join(dirname(SYNAPSE), 'register_new_matrix_user'), join(dirname(SYNAPSE), 'synapse_port_db')]) {
    try { accessSync(tool, constants.X_OK); } catch { return `${tool} is not an executable file`; }
  }
  return undefined;
}

const why = jailUnavailable() ?? postgresUnavailable() ?? synapseUnavailable();
const skip = why && `no real Synapse here (${why}): not proven: the real sqlite-to-PostgreSQL move with synapse_port_db and a Synapse booting on PostgreSQL`;

/** cook's homeserver.yaml made runnable on the host: /mnt is MNT, a free port, no pid file or log config. */
function hostConfig(rendered: Rendered, mnt: string, port: number): string {
  const text = rendered.file('usr/local/etc/matrix-synapse/homeserver.yaml').split('\n').filter((l) => !l.startsWith('#')).join('\n');
  const config = JSON.parse(text.replace(/"\/mnt\//g, `"${mnt}/`));
  config.listeners[0].port = port;
  config.pid_file = join(mnt, 'homeserver.pid');
  delete config.log_config;
  // Finish background updates quickly (synapse_port_db refuses an sqlite file with pending ones).
  config.background_updates = { sleep_enabled: false };
  const file = join(tempDir('synapse-config-'), 'homeserver.yaml');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

interface Synapse { url: string; stop(): Promise<void> }

/** Start the real Synapse on CONFIG; resolves once /health answers. */
async function startSynapse(config: string, port: number): Promise<Synapse> {
  const child: ChildProcess = spawn(SYNAPSE, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => { log = (log + d).slice(-4000); });
  const url = `http://127.0.0.1:${port}`;
  const stop = () => new Promise<void>((resolve) => {
    if (child.exitCode !== null) { resolve(); return; }
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`Synapse exited ${child.exitCode}: ${log}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, stop };
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`Synapse did not answer /health within 120 s: ${log}`);
}

/** Wait until Synapse has run every background update on the sqlite database DB (the port tool insists). */
async function backgroundUpdatesDone(db: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const { stdout } = await promisify(execFile)('/usr/bin/python3', ['-c',
      'import sqlite3, sys; print(sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True).execute("SELECT count(*) FROM background_updates").fetchone()[0])', db]);
    if (stdout.trim() === '0') return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('Synapse did not finish its background updates within 300 s');
}

async function register(url: string, user: string, password: string, admin: boolean): Promise<void> {
  await promisify(execFile)(join(dirname(SYNAPSE), 'register_new_matrix_user'),
    ['-u', user, '-p', password, admin ? '-a' : '--no-admin', '-k', SHARED_SECRET, url]);
}

async function api(url: string, method: string, path: string, token?: string, body?: unknown): Promise<any> {
  const res = await fetch(`${url}${path}`, {
    method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function login(url: string, user: string, password: string): Promise<string> {
  const r = await api(url, 'POST', '/_matrix/client/v3/login', undefined, { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password });
  return r.access_token;
}

async function messages(url: string, token: string, room: string): Promise<string[]> {
  const r = await api(url, 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(room)}/messages?dir=b&limit=50`, token);
  return r.chunk.filter((e: any) => e.type === 'm.room.message').map((e: any) => e.content.body).reverse();
}

/** Run cook's whole start in the jail (stand-in services); SIGTERM once ready. */
function cookStart(env: Record<string, string>, mnt: string, seeds: string[]): Promise<Rendered> {
  return cook(env, {
    mnt, seeds, renderOnly: false,
    onSpawn: (child) => {
      let seen = '';
      child.stdout!.on('data', (d: Buffer) => { seen += d; if (seen.includes('cook: ready')) { seen = ''; signalJail(child, 'SIGTERM'); } });
    },
  });
}

describe('real Synapse on PostgreSQL', { skip }, () => {
  const pg = skip ? undefined! : postgresServer();
  before(() => pg.init());
  const dbEnv = (name: string) => ({ ...MINIMAL, DBHOST: '127.0.0.1', DBPORT: String(pg.port), DBNAME: name });
  // The package's synapse_port_db is the real one beside TEST_SYNAPSE_COMMAND.
  const realPortDb = () => seedWith({ 'usr/local/bin/synapse_port_db': { text: `#!/bin/sh\nexec '${join(dirname(SYNAPSE), 'synapse_port_db')}' "$@"\n`, mode: 0o755 } });
  const secrets = () => seedWith({ 'secrets/matrix-synapse.env': { text: `DBPASSWORD=${PASSWORD}\n` } });

  it('an sqlite server with users, a room and messages moves over with synapse_port_db; everything is still there', async () => {
    const mnt = tempDir('mnt-');
    // 1. The server on sqlite, as the image renders it.
    const onSqlite = await cook(MINIMAL, { mnt });
    assert.equal(onSqlite.code, 0, onSqlite.output);
    const port = await freePort();
    let synapse = await startSynapse(hostConfig(onSqlite, mnt, port), port);
    let room = '';
    try {
      await register(synapse.url, 'admin', 'admin-password', true);
      await register(synapse.url, 'alice', 'alice-password', false);
      const admin = await login(synapse.url, 'admin', 'admin-password');
      room = (await api(synapse.url, 'POST', '/_matrix/client/v3/createRoom', admin, { preset: 'public_chat', name: 'Moving day' })).room_id;
      const alice = await login(synapse.url, 'alice', 'alice-password');
      await api(synapse.url, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(room)}`, alice, {});
      for (const [token, body, i] of [[admin, 'hello from sqlite', 1], [alice, 'ünïcødé survives', 2], [admin, 'last word', 3]] as const) {
        await api(synapse.url, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(room)}/send/m.room.message/t${i}`, token, { msgtype: 'm.text', body });
      }
      await backgroundUpdatesDone(join(mnt, 'synapse', 'homeserver.db'));
    } finally {
      await synapse.stop();
    }

    // 2. The next allocation with DBHOST: cook moves the data before starting anything.
    createSynapseDatabase(pg, 'moved', 'synapse', PASSWORD);
    const moved = await cookStart(dbEnv('moved'), mnt, [secrets(), realPortDb()]);
    assert.equal(moved.code, 0, moved.output);
    assert.match(moved.stdout, /moving this server's data from \/mnt\/synapse\/homeserver\.db to PostgreSQL/);
    assert.match(moved.stdout, /port: Copying to postgres\.\.\./);
    assert.match(moved.stdout, /move done: the sqlite database is kept as \/mnt\/synapse\/homeserver\.db\.moved-/);
    assert.ok(readdirSync(join(mnt, 'synapse')).some((f) => f.startsWith('homeserver.db.moved-')));
    assert.match(readFileSync(join(mnt, 'synapse', 'moved-to-postgresql'), 'utf8'), /^postgresql=synapse@127\.0\.0\.1:\d+\/moved$/m);

    // 3. Synapse on PostgreSQL with the configuration cook rendered: everyone and everything is there.
    synapse = await startSynapse(hostConfig(moved, mnt, port), port);
    try {
      const alice = await login(synapse.url, 'alice', 'alice-password');
      assert.deepEqual(await messages(synapse.url, alice, room), ['hello from sqlite', 'ünïcødé survives', 'last word']);
      const admin = await login(synapse.url, 'admin', 'admin-password');
      assert.ok((await api(synapse.url, 'GET', '/_matrix/client/v3/joined_rooms', admin)).joined_rooms.includes(room));
      // Still an admin (the admin API answers only admins), alice still not (1.67 says 0/1).
      assert.ok(!(await api(synapse.url, 'GET', '/_synapse/admin/v2/users/@alice:example.com', admin)).admin);
      assert.ok((await api(synapse.url, 'GET', '/_synapse/admin/v2/users/@admin:example.com', admin)).admin);
    } finally {
      await synapse.stop();
    }
    assert.ok(Number(pg.sql('SELECT count(*) FROM users', 'moved')) >= 2);
  });

  it('a new server on an empty PostgreSQL boots and its admin logs in', async () => {
    const mnt = tempDir('mnt-');
    mkdirSync(mnt, { recursive: true });
    createSynapseDatabase(pg, 'fresh', 'synapse', PASSWORD);
    const r = await cookStart(dbEnv('fresh'), mnt, [secrets()]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /checked: empty; sqlite \/mnt\/synapse\/homeserver\.db: absent/);
    const port = await freePort();
    const synapse = await startSynapse(hostConfig(r, mnt, port), port);
    try {
      await register(synapse.url, 'admin', 'admin-password', true);
      const token = await login(synapse.url, 'admin', 'admin-password');
      assert.equal((await api(synapse.url, 'GET', '/_matrix/client/v3/account/whoami', token)).user_id, '@admin:example.com');
    } finally {
      await synapse.stop();
    }
    assert.equal(pg.sql("SELECT name FROM users WHERE admin = 1", 'fresh'), '@admin:example.com');
  });
});
