// `npm run cook:render -- --env FILE --out DIR [--mnt DIR] [--authkey FILE] [-- COOK FLAGS…]`
//
// Preview what the image's cook makes of a set of parameters, on Linux: the
// flavour script builds the image into a throwaway root (scripts/jail-sandbox.sh,
// FreeBSD-only tools replaced by the stand-ins in test/stand-ins/), then the
// real cook runs in a fresh clone of it with the parameters and `-r` (render
// only: nothing is started). DIR receives the jail's tree at its real paths
// (DIR/usr/local/etc/matrix-synapse/homeserver.yaml, DIR/mnt/…, DIR/var/log/cook.log)
// and the command exits with cook's exit code. The image tests use the same
// functions. Needs root (mount namespace + overlay).
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SANDBOX = join(PROJECT_ROOT, 'scripts', 'jail-sandbox.sh');
export const STAND_INS = join(PROJECT_ROOT, 'test', 'stand-ins');
export const FLAVOUR = 'matrix-synapse-nomad';
export const FLAVOURS = join(PROJECT_ROOT, 'flavours');

export interface RunResult { code: number; stdout: string; stderr: string }

export class CookRenderError extends Error {
  constructor(message: string, readonly exitCode: number) { super(message); }
}

/** KEY=VALUE per line; the value is everything after the first `=`, taken literally. */
export function parseEnvFile(text: string, name = 'env file'): Record<string, string> {
  const env: Record<string, string> = {};
  text.split('\n').forEach((raw, index) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    if (eq < 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new CookRenderError(`${name} line ${index + 1}: expected KEY=VALUE with KEY made of letters, digits and _`, 2);
    }
    env[key] = line.slice(eq + 1);
  });
  return env;
}

export interface JailRun {
  /** Receives everything the command wrote, at its real paths. */
  out: string;
  /** Folder mounted at /mnt (default: OUT/mnt). */
  mnt?: string;
  mntReadOnly?: boolean;
  /** Own network namespace (loopback only): servers can use their real ports. */
  privateNetwork?: boolean;
  /** Trees laid into the root before the command runs (the image first). */
  seeds?: string[];
  command: string[];
  /** The command's whole environment (PATH and HOME are set by the sandbox). */
  env?: Record<string, string>;
  /** Stream the command's output to ours as well as capturing it. */
  echo?: boolean;
  onSpawn?: (child: ChildProcess) => void;
}

/** Run COMMAND in a throwaway jail-like root (scripts/jail-sandbox.sh). */
export function runInJail(run: JailRun): Promise<RunResult> {
  const args = ['--out', run.out, '--stand-ins', STAND_INS];
  if (run.mnt) args.push('--mnt', run.mnt);
  if (run.mntReadOnly) args.push('--mnt-read-only');
  if (run.privateNetwork) args.push('--private-network');
  for (const seed of run.seeds ?? []) args.push('--seed', seed);
  args.push('--', ...run.command);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(SANDBOX, args, {
      env: { LANG: 'C.UTF-8', STANDIN_LOG: '/var/log/stand-ins.log', ...run.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: signals reach cook as `jail -r` would
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => { stdout += d; if (run.echo) process.stdout.write(d); });
    child.stderr!.on('data', (d: Buffer) => { stderr += d; if (run.echo) process.stderr.write(d); });
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    run.onSpawn?.(child);
  });
}

/** Send a signal to the sandbox's process group (cook and what it started). */
export function signalJail(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid) process.kill(-child.pid, signal);
}

/**
 * Build the image tree into DIR the way pot does: the command file's copy-in
 * puts the payload in /root, then `/tmp/matrix-synapse-nomad.sh POTNAME` runs.
 */
export async function buildImage(dir: string, env: Record<string, string> = {}, flavours = FLAVOURS): Promise<RunResult> {
  const seed = mkdtempSync(join(tmpdir(), 'cook-image-seed-'));
  try {
    mkdirSync(join(seed, 'root'), { recursive: true });
    mkdirSync(join(seed, 'tmp'), { recursive: true });
    copyTree(join(flavours, `${FLAVOUR}.d`), join(seed, 'root', `${FLAVOUR}.d`));
    copyFileSync(join(flavours, `${FLAVOUR}.sh`), join(seed, 'tmp', `${FLAVOUR}.sh`));
    chmodSync(join(seed, 'tmp', `${FLAVOUR}.sh`), 0o755);
    // The base system's pkg.conf: its repository is FreeBSD up to 14.x, FreeBSD-ports from 15.0.
    mkdirSync(join(seed, 'etc', 'pkg'), { recursive: true });
    const repo = env.STANDIN_BASE_PKG_REPOSITORY ?? 'FreeBSD';
    writeFileSync(join(seed, 'etc', 'pkg', 'FreeBSD.conf'), `${repo}: {\n  url: "pkg+https://pkg.FreeBSD.org/\${ABI}/quarterly",\n  mirror_type: "srv",\n  enabled: yes\n}\n`);
    const mnt = mkdtempSync(join(tmpdir(), 'cook-image-mnt-'));
    try {
      return await runInJail({
        out: dir, mnt, seeds: [seed],
        command: [`/tmp/${FLAVOUR}.sh`, `${FLAVOUR}-amd64-14_3`],
        env: { STANDIN_LOG: '/tmp/build-stand-ins.log', ...env },
      });
    } finally { rmSync(mnt, { recursive: true, force: true }); }
  } finally { rmSync(seed, { recursive: true, force: true }); }
}

/** Copy a folder keeping the permission bits, as pot's copy-in (cp -a) does. */
function copyTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const a = join(from, entry.name);
    const b = join(to, entry.name);
    if (entry.isDirectory()) copyTree(a, b);
    else { copyFileSync(a, b); chmodSync(b, statSync(a).mode & 0o777); }
  }
}

let sharedImage: Promise<string> | undefined;

/** One image build per process, removed when the process exits. */
export function sharedImageDir(): Promise<string> {
  sharedImage ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cook-image-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const result = await buildImage(join(dir, 'image'));
    if (result.code !== 0) throw new CookRenderError(`building the image failed (exit ${result.code}): ${result.stderr.trim().split('\n').pop()}`, 1);
    return join(dir, 'image');
  })();
  return sharedImage;
}

export interface CookRun {
  out: string;
  env: Record<string, string>;
  flags?: string[];
  mnt?: string;
  mntReadOnly?: boolean;
  /** Becomes /root/importauthkey (what the job's `copy` puts there). */
  authKey?: string;
  /** Extra trees laid over the image (e.g. a previous run's tree, to restart that clone). */
  seeds?: string[];
  /** Start something else than cook itself (e.g. a tinirc that execs cook); flags are then ignored. */
  command?: string[];
  /** Default true: cook -r, nothing started. false: the full lifecycle with stand-in services. */
  renderOnly?: boolean;
  /** Own network namespace (loopback only), for runs that serve on real ports. */
  privateNetwork?: boolean;
  /** Another image tree than this checkout's (e.g. a previous version built by buildImage). */
  image?: string;
  echo?: boolean;
  onSpawn?: (child: ChildProcess) => void;
}

/** Run the image's cook in a fresh clone of the image. */
export async function runCook(run: CookRun): Promise<RunResult> {
  const image = run.image ?? await sharedImageDir();
  const extra = mkdtempSync(join(tmpdir(), 'cook-seed-'));
  try {
    if (run.authKey !== undefined) {
      mkdirSync(join(extra, 'root'), { recursive: true });
      copyFileSync(run.authKey, join(extra, 'root', 'importauthkey'));
      chmodSync(join(extra, 'root', 'importauthkey'), 0o600);
    }
    const flags = [...(run.renderOnly === false ? [] : ['-r']), ...(run.flags ?? [])];
    return await runInJail({
      out: run.out, mnt: run.mnt, mntReadOnly: run.mntReadOnly, privateNetwork: run.privateNetwork,
      seeds: [image, extra, ...(run.seeds ?? [])],
      command: run.command ?? ['/usr/local/bin/cook', ...flags],
      env: run.env, echo: run.echo, onSpawn: run.onSpawn,
    });
  } finally { rmSync(extra, { recursive: true, force: true }); }
}

const USAGE = 'usage: npm run cook:render -- --env FILE --out DIR [--mnt DIR] [--authkey FILE] [-- COOK FLAGS…]';

export function parseArgs(argv: string[]): { envFile: string; out: string; mnt?: string; authKey?: string; flags: string[] } {
  let envFile: string | undefined;
  let out: string | undefined;
  let mnt: string | undefined;
  let authKey: string | undefined;
  let i = 0;
  const value = (flag: string): string => {
    const v = argv[++i];
    if (v === undefined) throw new CookRenderError(`${flag} needs a value; ${USAGE}`, 2);
    return v;
  };
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') { i++; break; }
    if (arg === '--env') envFile = value(arg);
    else if (arg === '--out') out = value(arg);
    else if (arg === '--mnt') mnt = value(arg);
    else if (arg === '--authkey') authKey = value(arg);
    else throw new CookRenderError(`unknown argument ${arg}; ${USAGE}`, 2);
  }
  if (!envFile || !out) throw new CookRenderError(`--env FILE and --out DIR are required; ${USAGE}`, 2);
  return { envFile, out, mnt, authKey, flags: argv.slice(i) };
}

function checkOut(out: string): void {
  if (existsSync(out) && readdirSync(out).length > 0) {
    throw new CookRenderError(`--out ${out} is not empty; give a new or empty folder (use --mnt to reuse persistent storage)`, 2);
  }
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    throw new CookRenderError('cook:render needs root on Linux (it uses a mount namespace); run it with sudo', 1);
  }
  let text: string;
  try { text = readFileSync(args.envFile, 'utf8'); } catch {
    throw new CookRenderError(`cannot read --env ${args.envFile}; give a file with one KEY=VALUE per line`, 2);
  }
  if (args.authKey && !existsSync(args.authKey)) throw new CookRenderError(`--authkey ${args.authKey} does not exist`, 2);
  const env = parseEnvFile(text, args.envFile);
  checkOut(args.out);
  const result = await runCook({
    out: resolve(args.out), mnt: args.mnt ? resolve(args.mnt) : undefined,
    authKey: args.authKey, env, flags: args.flags, echo: true,
  });
  process.stderr.write(`cook:render: cook exited ${result.code}; the jail's tree is in ${resolve(args.out)}\n`);
  return result.code;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`cook:render: ${message.split('\n')[0]}\n`);
    process.exitCode = error instanceof CookRenderError ? error.exitCode : 1;
  });
}
