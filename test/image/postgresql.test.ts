// PostgreSQL for the image against a real server (Debian's postgresql, initdb
// --locale=C -E UTF8, run as nobody on a free port): the DB* parameters and the
// psycopg2 section cook renders, every check cook makes before Synapse starts
// (each refusal produced for real, nothing started), and the one-time move from
// sqlite with a stand-in synapse_port_db (test/stand-ins/synapse/).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signalJail, STAND_INS, type CookRun } from '../../scripts/cook-render.js';
import { tempDir } from '../helpers/tmp.js';
import { cook, jailUnavailable, MINIMAL, type Rendered } from './jail.js';
import { createSynapseDatabase, postgresServer, postgresUnavailable, seedWith } from './postgresql-server.js';

const skip = jailUnavailable() ?? postgresUnavailable();
const PASSWORD = `pw with spaces, "quotes", 'single', $HOME \\ | & # ünï`;
const HOMESERVER = 'usr/local/etc/matrix-synapse/homeserver.yaml';

/** The parameter file the Nomad job renders (here: DBPASSWORD and whatever else is given). */
function paramsFile(values: Record<string, string>): string {
  return seedWith({ 'secrets/matrix-synapse.env': { text: Object.entries(values).map(([k, v]) => `${k}=${v}\n`).join('') } });
}

/** The stand-in synapse_port_db where the package installs the real one. */
function portDbSeed(): string {
  const seed = tempDir('port-db-');
  mkdirSync(join(seed, 'usr', 'local', 'bin'), { recursive: true });
  copyFileSync(join(STAND_INS, 'synapse', 'synapse_port_db'), join(seed, 'usr', 'local', 'bin', 'synapse_port_db'));
  execFileSync('chmod', ['0755', join(seed, 'usr', 'local', 'bin', 'synapse_port_db')]);
  return seed;
}

function started(r: Rendered): string[] {
  return r.standIns().filter((l) => /^service \S+ start$/.test(l));
}

/** Run cook for real; once it is ready, SIGTERM it (a refusal ends it earlier by itself). */
function runCook(env: Record<string, string>, options: Partial<CookRun> = {}): Promise<Rendered> {
  return cook(env, {
    ...options,
    renderOnly: false,
    onSpawn: (child: ChildProcess) => {
      let seen = '';
      child.stdout!.on('data', (d: Buffer) => {
        seen += d;
        if (seen.includes('cook: ready')) { seen = ''; signalJail(child, 'SIGTERM'); }
      });
    },
  });
}

/** An sqlite database with a few Synapse-like tables and rows, as a server on sqlite leaves it. */
function sqliteServer(mnt: string, domain = 'example.com'): string {
  mkdirSync(join(mnt, 'synapse'), { recursive: true });
  writeFileSync(join(mnt, 'synapse', 'server_name'), `${domain}\n`);
  const db = join(mnt, 'synapse', 'homeserver.db');
  execFileSync('/usr/bin/python3', ['-c', `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("CREATE TABLE schema_version (version INTEGER)")
c.execute("CREATE TABLE users (name TEXT, admin INTEGER)")
c.execute("CREATE TABLE events (event_id TEXT, room_id TEXT, body TEXT)")
c.executemany("INSERT INTO users VALUES (?, ?)", [("@admin:${domain}", 1), ("@alice:${domain}", 0)])
c.executemany("INSERT INTO events VALUES (?, ?, ?)", [("$e%d" % i, "!room:${domain}", "message %d" % i) for i in range(50)])
c.commit()
`, db]);
  return db;
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('PostgreSQL parameters (render only)', { skip: jailUnavailable() }, () => {
  it('DBHOST turns on the psycopg2 section: values verbatim, defaults, pool sizes; the password only from the file, never logged', async () => {
    const r = await cook({ ...MINIMAL, DBHOST: 'db.example.org', DBUSER: 'matrix' }, { seeds: [paramsFile({ DBPASSWORD: PASSWORD, DBNAME: 'my "db"' })] });
    assert.equal(r.code, 0, r.output);
    const db = r.homeserver().database;
    assert.equal(db.name, 'psycopg2');
    assert.deepEqual(db.args, {
      user: 'matrix', password: PASSWORD, dbname: 'my "db"', host: 'db.example.org', port: 5432, sslmode: 'verify-full',
      cp_min: 5, cp_max: 10, keepalives_idle: 10, keepalives_interval: 10, keepalives_count: 3,
    });
    assert.equal(db.txn_limit, 10000);
    assert.match(r.stdout, /DBPASSWORD from the parameter file/);
    assert.match(r.stdout, /database: PostgreSQL 'my "db"' on db\.example\.org:5432 as matrix \(sslmode verify-full\)/);
    assert.ok(!r.output.includes('pw with spaces') && !r.file('var/log/cook.log').includes('pw with spaces'), 'password logged');
  });

  it('sslmode: disable by default on the loopback, as given otherwise; verify-full trusts /mnt/postgresql/root.crt', async () => {
    const loop = await cook({ ...MINIMAL, DBHOST: '127.0.0.1', DBPORT: '6543' }, { seeds: [paramsFile({ DBPASSWORD: 'x' })] });
    assert.equal(loop.code, 0, loop.output);
    assert.equal(loop.homeserver().database.args.sslmode, 'disable');
    assert.equal(loop.homeserver().database.args.port, 6543);
    const mnt = tempDir();
    mkdirSync(join(mnt, 'postgresql'));
    writeFileSync(join(mnt, 'postgresql', 'root.crt'), 'ca');
    const ca = await cook({ ...MINIMAL, DBHOST: 'db.example.org', DBSSLMODE: 'verify-full' }, { mnt, seeds: [paramsFile({ DBPASSWORD: 'x' })] });
    assert.equal(ca.homeserver().database.args.sslrootcert, '/mnt/postgresql/root.crt');
    const req = await cook({ ...MINIMAL }, { flags: ['-H', 'db.example.org', '-S', 'require', '-N', 'n', '-U', 'u', '-P', '7000'], seeds: [paramsFile({ DBPASSWORD: 'x' })] });
    assert.deepEqual([req.homeserver().database.args.sslmode, req.homeserver().database.args.dbname, req.homeserver().database.args.user, req.homeserver().database.args.port], ['require', 'n', 'u', 7000]);
  });

  it('without DBHOST: sqlite as before', async () => {
    const r = await cook(MINIMAL);
    assert.deepEqual(r.homeserver().database, { name: 'sqlite3', args: { database: '/mnt/synapse/homeserver.db' } });
    assert.match(r.stdout, /database: sqlite \/mnt\/synapse\/homeserver\.db/);
  });

  it('every DB problem at once with the others; DBPASSWORD from env is refused; nothing written', async () => {
    const r = await cook({ ...MINIMAL, ALERTEMAIL: 'nope', DBHOST: 'bad host', DBPORT: '99999', DBSSLMODE: 'prefer', DBPASSWORD: 'from-env-secret', DBNAME: 'x'.repeat(64) }, { renderOnly: false });
    assert.equal(r.code, 2, r.output);
    for (const expected of [
      /ALERTEMAIL \(-a\): 'nope'/,
      /DBPASSWORD is in the environment \(the job's env\); it is taken only from the parameter file \/secrets\/matrix-synapse\.env/,
      /DBHOST \(-H\): 'bad host' is not a host name or IP address/,
      /DBPORT \(-P\): '99999' is not a port number/,
      /DBNAME \(-N\): 'x{64}' is longer than PostgreSQL's 63-byte limit/,
      /DBSSLMODE \(-S\): 'prefer' is not one of disable, require, verify-full/,
    ]) assert.match(r.stderr, expected);
    assert.match(r.stderr, /cannot start: 6 problem\(s\)/);
    assert.ok(!r.output.includes('from-env-secret'));
    assert.ok(!r.exists(HOMESERVER));

    const placeholder = await cook({ ...MINIMAL, DBHOST: 'db.example.org' }, { seeds: [paramsFile({ DBPASSWORD: 'xCHANGEMEx' })] });
    assert.equal(placeholder.code, 2);
    assert.match(placeholder.stderr, /  - DBPASSWORD still contains the placeholder CHANGEME; put the real value in the job/);
    assert.match(placeholder.stderr, /cannot start: 1 problem\(s\)/);

    const missing = await cook({ ...MINIMAL, DBHOST: 'db.example.org' });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /DBPASSWORD is required when DBHOST is set: the password of PostgreSQL role 'synapse'; store it in the Nomad Variable/);

    const stray = await cook({ ...MINIMAL, DBUSER: 'u', DBSSLMODE: 'require' }, { seeds: [paramsFile({ DBPASSWORD: 'x' })] });
    assert.equal(stray.code, 2);
    assert.match(stray.stderr, /DBUSER is set but DBHOST \(-H\) is not; set DBHOST to use PostgreSQL or drop DBUSER/);
    assert.match(stray.stderr, /DBSSLMODE is set but DBHOST/);
    assert.match(stray.stderr, /DBPASSWORD is set but DBHOST/);
  });
});

describe('database checks before Synapse starts, against a real PostgreSQL', { skip }, () => {
  const pg = skip ? undefined! : postgresServer();
  const base = () => ({ ...MINIMAL, DBHOST: '127.0.0.1', DBPORT: String(pg.port) });

  before(async () => {
    await pg.init();
    createSynapseDatabase(pg, 'synapse', 'synapse', PASSWORD);
  });

  async function refused(env: Record<string, string>, password: string, options: Partial<CookRun> = {}): Promise<Rendered> {
    const r = await runCook({ ...base(), ...env }, { seeds: [paramsFile({ DBPASSWORD: password }), portDbSeed()], ...options });
    assert.deepEqual(started(r), [], 'nothing started');
    assert.match(r.stderr, /nothing was started; fix the database problem above/);
    assert.ok(!r.output.includes(password), 'password shown');
    return r;
  }

  it('an empty database with C collation: checked, Synapse started', async () => {
    const r = await runCook(base(), { seeds: [paramsFile({ DBPASSWORD: PASSWORD })] });
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, new RegExp(`database: PostgreSQL 'synapse' on 127\\.0\\.0\\.1:${pg.port} \\(sslmode disable\\) checked: empty; sqlite /mnt/synapse/homeserver\\.db: absent`));
    assert.ok(started(r).includes('service synapse start'));
    assert.ok(!r.standIns().some((l) => l.startsWith('synapse_port_db')), 'nothing to move');
  });

  it('wrong password: the login is refused, named with its fix', async () => {
    const r = await refused({}, 'not-the-password');
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`database: PostgreSQL at 127\\.0\\.0\\.1:${pg.port} refused the login of role 'synapse' \\(password authentication failed for user "synapse"\\); check DBUSER and the DBPASSWORD in the Nomad Variable`));
  });

  it('a database that does not exist: says so with the CREATE DATABASE line', async () => {
    const r = await refused({ DBNAME: 'nosuchdb' }, PASSWORD);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /database 'nosuchdb' does not exist on PostgreSQL at 127\.0\.0\.1:\d+; create it \(as a superuser, e\.g\. psql -U postgres\): CREATE DATABASE "nosuchdb" OWNER "synapse" ENCODING 'UTF8' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C';/);
  });

  it('wrong collation or encoding: names what is wrong and how to create it', async () => {
    pg.sql(`CREATE DATABASE utf8coll OWNER synapse ENCODING 'UTF8' TEMPLATE template0 LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'`);
    const r = await refused({ DBNAME: 'utf8coll' }, PASSWORD);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /database 'utf8coll' on 127\.0\.0\.1:\d+ has collation 'C\.UTF-8', ctype 'C\.UTF-8'; Synapse needs UTF8 with collation and ctype 'C': drop it and create it again .*CREATE DATABASE "utf8coll" OWNER "synapse" ENCODING 'UTF8' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C';/);
    pg.sql(`CREATE DATABASE latin OWNER synapse ENCODING 'LATIN1' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'`);
    const latin = await refused({ DBNAME: 'latin' }, PASSWORD);
    assert.match(latin.stderr, /database 'latin' on 127\.0\.0\.1:\d+ has encoding LATIN1; Synapse needs UTF8/);
  });

  it('another server\'s data (its users are @…:other.org): refused, nothing moved or started', async () => {
    createSynapseDatabase(pg, 'otherdb', 'synapse', PASSWORD);
    pg.sql(`CREATE TABLE users (name text); INSERT INTO users VALUES ('@bob:other.org'); ALTER TABLE users OWNER TO synapse`, 'otherdb');
    const r = await refused({ DBNAME: 'otherdb' }, PASSWORD);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /database 'otherdb' on 127\.0\.0\.1:\d+ holds the data of another Matrix server \('other\.org'\), not example\.com; point DBNAME at this server's database or at an empty one/);
  });

  it('a role that may not create tables in an empty database: says how to grant it', async () => {
    pg.sql(`CREATE ROLE guest LOGIN PASSWORD 'guestpw'`);
    pg.sql(`CREATE DATABASE guestdb OWNER postgres ENCODING 'UTF8' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'`);
    const r = await refused({ DBNAME: 'guestdb', DBUSER: 'guest' }, 'guestpw');
    assert.match(r.stderr, /role 'guest' may not create tables in database 'guestdb' .*ALTER DATABASE "guestdb" OWNER TO "guest";/);
  });

  it('a stopped server: unreachable (host, port), exit 1, nothing started; it works again once the server is back', async () => {
    await pg.stop();
    try {
      const r = await refused({}, PASSWORD);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`database: cannot reach PostgreSQL at 127\\.0\\.0\\.1:${pg.port} \\(connection refused\\); check DBHOST/DBPORT and that the server is running`));
    } finally {
      await pg.start();
    }
    const back = await runCook(base(), { seeds: [paramsFile({ DBPASSWORD: PASSWORD })] });
    assert.equal(back.code, 0, back.output);
  });
});

describe('moving from sqlite to PostgreSQL (stand-in synapse_port_db, real PostgreSQL)', { skip }, () => {
  const pg = skip ? undefined! : postgresServer();
  let n = 0;
  before(() => pg.init());

  /** A fresh empty database for one test. */
  function freshDb(): Record<string, string> {
    const name = `move${++n}`;
    createSynapseDatabase(pg, name, 'synapse', PASSWORD);
    return { ...MINIMAL, DBHOST: '127.0.0.1', DBPORT: String(pg.port), DBNAME: name };
  }
  const seeds = () => [paramsFile({ DBPASSWORD: PASSWORD }), portDbSeed()];

  it('sqlite with data + empty PostgreSQL: synapse_port_db on a copy, then the sqlite file is kept with the date, the move recorded, Synapse started', async () => {
    const env = freshDb();
    const mnt = tempDir();
    const db = sqliteServer(mnt);
    const before = sha256(db);
    const r = await runCook(env, { mnt, seeds: seeds() });
    assert.equal(r.code, 0, r.output);
    const runs = r.standIns().filter((l) => l.startsWith('synapse_port_db'));
    assert.deepEqual(runs, ['synapse_port_db --sqlite-database /mnt/synapse/homeserver.db.moving --postgres-config /usr/local/etc/matrix-synapse/homeserver.yaml']);
    assert.match(r.stdout, /moving this server's data from \/mnt\/synapse\/homeserver\.db to PostgreSQL database 'move\d+' on 127\.0\.0\.1:\d+ with synapse_port_db/);
    assert.match(r.stdout, /port: events: 100% \(50\/50\)/);
    const files = readdirSync(join(mnt, 'synapse'));
    const kept = files.find((f) => /^homeserver\.db\.moved-\d{8}T\d{6}Z$/.test(f));
    assert.ok(kept, files.join(' '));
    assert.ok(!files.includes('homeserver.db') && !files.includes('homeserver.db.moving'), files.join(' '));
    assert.equal(sha256(join(mnt, 'synapse', kept)), before, 'the kept sqlite file is the original, unchanged');
    const marker = readFileSync(join(mnt, 'synapse', 'moved-to-postgresql'), 'utf8');
    assert.match(marker, new RegExp(`^sqlite=/mnt/synapse/${kept.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(marker, new RegExp(`^postgresql=synapse@127\\.0\\.0\\.1:${pg.port}/${env.DBNAME}$`, 'm'));
    assert.equal(pg.sql('SELECT count(*) FROM events', env.DBNAME), '50');
    assert.equal(pg.sql('SELECT name FROM users ORDER BY name', env.DBNAME), '@admin:example.com\n@alice:example.com');
    // Moved before anything started: the move's log lines precede the first start.
    const log = r.file('var/log/cook.log');
    assert.ok(log.indexOf('move done') < log.indexOf('starting synapse'));
    assert.ok(started(r).includes('service synapse start'));

    // The next allocation: nothing to move, starts on PostgreSQL.
    const again = await runCook(env, { mnt, seeds: seeds() });
    assert.equal(again.code, 0, again.output);
    assert.ok(!again.standIns().some((l) => l.startsWith('synapse_port_db')));
    assert.match(again.stdout, /checked: synapse-from-sqlite; sqlite \/mnt\/synapse\/homeserver\.db: absent/);

    // Dropping DBHOST now would start an empty sqlite server: refused, with the way back.
    const { DBHOST: _h, DBPORT: _p, DBNAME: _n, ...sqliteEnv } = env;
    const back = await runCook(sqliteEnv, { mnt });
    assert.equal(back.code, 2);
    assert.match(back.stderr, /this server's data moved to PostgreSQL \(\/mnt\/synapse\/moved-to-postgresql says where\); set DBHOST and the other DB\* parameters again, or roll back to sqlite/);
    assert.deepEqual(started(back), []);
  });

  it('a failed move: exit 1, sqlite byte for byte unchanged and in place, nothing recorded or started; the next start finishes the move', async () => {
    const env = freshDb();
    const mnt = tempDir();
    const db = sqliteServer(mnt);
    const before = sha256(db);
    const r = await runCook({ ...env, STANDIN_PORT_DB_FAIL: 'background-updates' }, { mnt, seeds: seeds() });
    assert.equal(r.code, 1, r.output);
    assert.match(r.stdout, /port: Pending background updates exist in the SQLite3 database/);
    assert.match(r.stderr, /synapse_port_db failed \(exit 5; its last lines are above\): nothing was started and \/mnt\/synapse\/homeserver\.db is unchanged/);
    assert.deepEqual(started(r), []);
    assert.equal(sha256(db), before);
    assert.deepEqual(readdirSync(join(mnt, 'synapse')).filter((f) => f.startsWith('homeserver.db')), ['homeserver.db'], 'not renamed, no copy left');
    assert.ok(!existsSync(join(mnt, 'synapse', 'moved-to-postgresql')));
    assert.ok(!existsSync(join(mnt, 'synapse', 'homeserver.db.moving')));

    const retry = await runCook(env, { mnt, seeds: seeds() });
    assert.equal(retry.code, 0, retry.output);
    assert.match(retry.stdout, /checked: synapse-from-sqlite; sqlite \/mnt\/synapse\/homeserver\.db: data/);
    assert.ok(retry.standIns().some((l) => l.startsWith('synapse_port_db')));
    assert.ok(existsSync(join(mnt, 'synapse', 'moved-to-postgresql')));
    assert.equal(pg.sql('SELECT count(*) FROM events', env.DBNAME), '50');
  });

  it('synapse_port_db refusing the configuration (its exit 3) stops the start the same way', async () => {
    const env = freshDb();
    const mnt = tempDir();
    const db = sqliteServer(mnt);
    const before = sha256(db);
    const bad = seedWith({ 'usr/local/bin/synapse_port_db': { text: '#!/bin/sh\necho "Database must use the \'psycopg2\' connector." >&2\nexit 3\n', mode: 0o755 } });
    const r = await runCook(env, { mnt, seeds: [paramsFile({ DBPASSWORD: PASSWORD }), bad] });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /port: Database must use the 'psycopg2' connector\./);
    assert.match(r.stderr, /synapse_port_db failed \(exit 3/);
    assert.equal(sha256(db), before);
    assert.deepEqual(started(r), []);
  });

  it('both sqlite and PostgreSQL hold data: refused with the choice spelled out', async () => {
    const env = freshDb();
    pg.sql(`CREATE TABLE users (name text); INSERT INTO users VALUES ('@carol:example.com'); ALTER TABLE users OWNER TO synapse`, env.DBNAME);
    const mnt = tempDir();
    const db = sqliteServer(mnt);
    const before = sha256(db);
    const r = await runCook(env, { mnt, seeds: seeds() });
    assert.equal(r.code, 2, r.output);
    assert.match(r.stderr, /both the sqlite database \/mnt\/synapse\/homeserver\.db and PostgreSQL 'move\d+' on 127\.0\.0\.1:\d+ hold Synapse data; choose one: keep PostgreSQL's by moving \/mnt\/synapse\/homeserver\.db out of \/mnt\/synapse; or move sqlite's by emptying the PostgreSQL database .*; or stay on sqlite by removing DBHOST/);
    assert.ok(!r.standIns().some((l) => l.startsWith('synapse_port_db')));
    assert.deepEqual(started(r), []);
    assert.equal(sha256(db), before);
  });
});
