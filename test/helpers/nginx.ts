// Start a real nginx (Debian's nginx-light) on 127.0.0.1 with the project's
// scripts/nginx-repository.conf, inside a temp prefix, and stop it afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { PROJECT_ROOT } from './cli.js';
import { freePort } from './ports.js';

export const NGINX = '/usr/sbin/nginx';
export const REPOSITORY_CONF = join(PROJECT_ROOT, 'scripts', 'nginx-repository.conf');

export interface NginxOptions {
  /** Basic-auth users allowed to publish. */
  users?: Record<string, string>;
  /** Bearer tokens allowed to publish. */
  tokens?: string[];
  /** Serve this folder instead of a fresh one. */
  root?: string;
  /** Serve HTTPS with this certificate and key (PEM files). */
  tls?: { cert: string; key: string };
  /** Folder for nginx's config, logs and temp files (default: a fresh temp folder, removed by stop()). */
  prefix?: string;
}

export interface NginxServer {
  /** http(s)://127.0.0.1:PORT/ */
  url: string;
  port: number;
  /** The repository folder nginx serves and writes. */
  root: string;
  errorLog: string;
  stop(): Promise<void>;
}

/** nginx's {SSHA} password scheme: base64(sha1(password + salt) + salt). */
function sshaLine(user: string, password: string): string {
  const salt = randomBytes(8);
  const digest = createHash('sha1').update(password).update(salt).digest();
  return `${user}:{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

/** Ready when nginx wrote its pid file (after binding its sockets) and the port answers;
 *  a port taken meanwhile by another process makes nginx exit, which is reported. */
function waitUntilListening(port: number, child: ChildProcess, pidFile: string, errorLog: string, deadlineMs = 10_000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) {
        const log = existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : '';
        reject(new Error(`nginx exited with ${child.exitCode}: ${log}`));
        return;
      }
      const retry = () => {
        if (Date.now() - started > deadlineMs) reject(new Error(`nginx did not listen on 127.0.0.1:${port} within ${deadlineMs} ms`));
        else setTimeout(attempt, 25);
      };
      if (!existsSync(pidFile)) {
        retry();
        return;
      }
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(); });
      socket.once('error', () => { socket.destroy(); retry(); });
    };
    attempt();
  });
}

/** Start nginx serving a WebDAV repository; call stop() (tests: in after()). */
export async function startNginx(options: NginxOptions = {}): Promise<NginxServer> {
  const prefix = options.prefix ?? mkdtempSync(join(tmpdir(), 'pot-image-nginx-'));
  const root = options.root ?? join(prefix, 'repo');
  mkdirSync(root, { recursive: true });
  for (const sub of ['tmp/proxy', 'tmp/fastcgi', 'tmp/uwsgi', 'tmp/scgi']) mkdirSync(join(prefix, sub), { recursive: true });
  const htpasswd = join(prefix, 'htpasswd');
  const tokens = join(prefix, 'tokens.map');
  writeFileSync(htpasswd, Object.entries(options.users ?? {}).map(([u, p]) => sshaLine(u, p) + '\n').join(''));
  // The documented line: an anchored, case-sensitive regular expression (docs/publishing.md).
  writeFileSync(tokens, (options.tokens ?? []).map((t) => `"~^Bearer ${t.replace(/[^A-Za-z0-9]/g, (c) => `\\${c}`)}$" off;\n`).join(''));

  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(prefix, root, await freePort(), htpasswd, tokens, options);
    } catch (error) {
      // Another process may take the free port before nginx binds it: try another.
      if (attempt >= 3) throw error;
    }
  }
}

async function launch(prefix: string, root: string, port: number, htpasswd: string, tokens: string, options: NginxOptions): Promise<NginxServer> {
  const server = readFileSync(REPOSITORY_CONF, 'utf8')
    .replaceAll('@LISTEN@', options.tls ? `127.0.0.1:${port} ssl; ssl_certificate ${options.tls.cert}; ssl_certificate_key ${options.tls.key}` : `127.0.0.1:${port}`)
    .replaceAll('@ROOT@', root)
    .replaceAll('@HTPASSWD@', htpasswd)
    .replaceAll('@TOKENS@', tokens);
  writeFileSync(join(prefix, 'repository.conf'), server);
  const errorLog = join(prefix, 'error.log');
  const pidFile = join(prefix, 'nginx.pid');
  rmSync(pidFile, { force: true });
  // As root (CI), workers must be root too to write the root-owned temp folder;
  // as another user nginx ignores `user` and runs as that user.
  const conf = [
    ...(process.getuid?.() === 0 ? ['user root root;'] : []),
    'worker_processes 2;',
    'daemon off;',
    `pid ${pidFile};`,
    `error_log ${errorLog} warn;`,
    'events { worker_connections 256; }',
    'http {',
    '  default_type application/octet-stream;',
    '  access_log off;',
    `  proxy_temp_path ${join(prefix, 'tmp/proxy')};`,
    `  fastcgi_temp_path ${join(prefix, 'tmp/fastcgi')};`,
    `  uwsgi_temp_path ${join(prefix, 'tmp/uwsgi')};`,
    `  scgi_temp_path ${join(prefix, 'tmp/scgi')};`,
    `  include ${join(prefix, 'repository.conf')};`,
    '}',
    '',
  ].join('\n');
  const confFile = join(prefix, 'nginx.conf');
  writeFileSync(confFile, conf);

  const child = spawn(NGINX, ['-p', prefix, '-c', confFile, '-e', errorLog], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => { stderr += d; });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Never leave an nginx behind, even when the test process dies before stop().
  const killOnExit = () => { child.kill('SIGTERM'); };
  process.once('exit', killOnExit);
  try {
    await waitUntilListening(port, child, pidFile, errorLog);
  } catch (error) {
    child.kill('SIGKILL');
    process.off('exit', killOnExit);
    throw new Error(`${(error as Error).message} ${stderr}`);
  }
  let stopped = false;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}/`,
    port,
    root,
    errorLog,
    async stop() {
      if (stopped) return;
      stopped = true;
      process.off('exit', killOnExit);
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      if (!options.prefix) rmSync(prefix, { recursive: true, force: true });
    },
  };
}
