// A real PostgreSQL for the image tests: Debian's server binaries, a cluster made
// with `initdb --locale=C -E UTF8` in a temporary folder, run as the unprivileged
// user nobody on a free port of 127.0.0.1 (password logins over TCP, trust on its
// own Unix socket for the test's admin commands), stopped when the test file ends.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/tmp.js';

const NOBODY = 65534;

/** Debian's newest server binaries (/usr/lib/postgresql/N/bin), or undefined. */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

/** Why the real-PostgreSQL tests cannot run here, or undefined. */
export function postgresUnavailable(): string | undefined {
  if (!postgresBin()) return 'needs Debian\'s postgresql (sh scripts/install-test-tools.sh)';
  if (process.getuid?.() !== 0) return 'needs root (runs the server as nobody)';
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import psycopg2'], { stdio: 'ignore' });
  } catch {
    return 'needs python3-psycopg2 (sh scripts/install-test-tools.sh)';
  }
  return undefined;
}

export interface PostgresServer {
  /** initdb and first start; call from before(). */
  init(): Promise<void>;
  port: number;
  /** Run SQL as the superuser in DATABASE (default postgres); returns psql's unaligned output. */
  sql(statement: string, database?: string): string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * Call at describe level (not in a hook): the folder and the stop are then tied to
 * the whole suite. Then `before(() => pg.init())`.
 */
export function postgresServer(): PostgresServer {
  const bin = postgresBin()!;
  const dir = tempDir('postgresql-');
  const data = join(dir, 'data');
  const socket = join(dir, 'socket');
  const asNobody = { uid: NOBODY, gid: NOBODY, env: { PATH: '/usr/bin:/bin', LANG: 'C' }, cwd: dir };
  let port = 0;
  let server: ChildProcess | undefined;

  const start = () => new Promise<void>((resolve, reject) => {
    const child = spawn(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', socket,
      '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'log_min_messages=warning'],
    { ...asNobody, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (d: Buffer) => {
      log += d;
      if (log.includes('ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`postgres exited ${code}: ${log}`)));
    server = child;
    // log_min_messages=warning hides the ready line: ask until it answers.
    const poll = setInterval(() => {
      try {
        execFileSync(join(bin, 'pg_isready'), ['-h', socket, '-p', String(port)], { stdio: 'ignore' });
        clearInterval(poll);
        resolve();
      } catch { /* not yet */ }
    }, 100);
    child.once('exit', () => clearInterval(poll));
  });

  const stop = () => new Promise<void>((resolve) => {
    const child = server;
    server = undefined;
    if (!child || child.exitCode !== null) { resolve(); return; }
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGINT'); // fast shutdown
  });

  const init = async () => {
    mkdirSync(socket);
    chownSync(dir, NOBODY, NOBODY);
    chownSync(socket, NOBODY, NOBODY);
    execFileSync(join(bin, 'initdb'), ['-D', data, '--locale=C', '-E', 'UTF8', '-U', 'postgres',
      '--auth-local=trust', '--auth-host=scram-sha-256'], { ...asNobody, stdio: 'pipe' });
    port = await freePort();
    await start();
  };
  after(() => stop());
  const sql = (statement: string, database = 'postgres') => execFileSync(join(bin, 'psql'),
    ['-h', socket, '-p', String(port), '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1', '-XAtq', '-c', statement],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  return { init, get port() { return port; }, sql, stop, start };
}

/** A login role with PASSWORD and a database Synapse accepts (UTF8, C), owned by it. */
export function createSynapseDatabase(pg: PostgresServer, name: string, user: string, password: string): void {
  if (pg.sql(`SELECT 1 FROM pg_roles WHERE rolname = '${user}'`) !== '1') {
    pg.sql(`CREATE ROLE "${user}" LOGIN PASSWORD '${password.replace(/'/g, "''")}'`);
  }
  pg.sql(`CREATE DATABASE "${name}" OWNER "${user}" ENCODING 'UTF8' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'`);
}

/** Write FILE under a fresh seed tree (laid over the image) and return the tree. */
export function seedWith(files: Record<string, { text: string; mode?: number }>): string {
  const seed = tempDir('seed-');
  for (const [path, { text, mode }] of Object.entries(files)) {
    mkdirSync(join(seed, path, '..'), { recursive: true });
    writeFileSync(join(seed, path), text, { mode: mode ?? 0o600 });
  }
  return seed;
}
