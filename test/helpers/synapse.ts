// A cooked server that really serves: the image's cook runs its whole
// lifecycle in the jail sandbox with its own network namespace, with Debian's
// nginx on the rendered configuration and, behind it, either a real Synapse
// (the command in TEST_SYNAPSE_COMMAND) or the HTTP stand-in
// (test/stand-ins/rc.d/synapse-listener.py). The test reaches into the running
// jail the way `jexec` does: nsenter into cook's mount and network namespace and root.
import { accessSync, constants, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { signalJail, type CookRun } from '../../scripts/cook-render.js';
import { cook, type Rendered } from '../image/jail.js';
import { tempDir } from './tmp.js';

/** TEST_SYNAPSE_COMMAND: an executable that runs Synapse with `-c CONFIG`; its siblings register_new_matrix_user and synapse_port_db. */
export const SYNAPSE_COMMAND = process.env.TEST_SYNAPSE_COMMAND ?? '';

/** Why no real Synapse can run here, or undefined when one can. */
export function synapseUnavailable(): string | undefined {
  if (!SYNAPSE_COMMAND) return 'TEST_SYNAPSE_COMMAND is not set (docs/image.md, "Tests")';
  for (const file of [SYNAPSE_COMMAND, join(dirname(SYNAPSE_COMMAND), 'register_new_matrix_user')]) {
    try { accessSync(file, constants.X_OK); } catch { return `TEST_SYNAPSE_COMMAND: ${file} is not an executable file`; }
  }
  return undefined;
}

/** One line saying what a skipped check did not prove. */
export function notProven(what: string): string | undefined {
  const why = synapseUnavailable();
  return why && `no real Synapse (${why}): not proven: ${what}`;
}

const JAIL_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ExecResult { code: number; stdout: string; stderr: string }

export interface LiveJail {
  /** cook's pid (its banner says it): the jail's processes share its namespaces. */
  pid: number;
  /** Date.now() when cook's banner arrived (cook itself started; the sandbox was set up before). */
  cookStartedAt: number;
  /** Everything cook printed so far. */
  output(): string;
  /** Run a command inside the jail, like `jexec JAIL COMMAND`. */
  exec(command: string[], options?: { input?: string; timeoutMs?: number }): Promise<ExecResult>;
  /** Start a long-running command inside the jail; killed by stop(). */
  spawn(command: string[]): ChildProcess;
  /** SIGTERM to cook (as Nomad stops a task); resolves with what the run left. */
  stop(): Promise<Rendered>;
  /** Resolves when cook has exited (on its own or by stop()). */
  done: Promise<Rendered>;
}

export interface LiveOptions extends Partial<CookRun> {
  /** 'listener' (default) or a real Synapse command. */
  synapse?: string;
  /** Called once cook's pid is known, before services start (e.g. to plug in a network link). */
  onPid?: (pid: number) => Promise<void> | void;
}

/** Start cook for real; resolves once cook says it is ready (or rejects with its output). */
export async function startLive(env: Record<string, string>, options: LiveOptions = {}): Promise<LiveJail> {
  const synapse = options.synapse ?? 'listener';
  const seeds = [...(options.seeds ?? [])];
  if (synapse !== 'listener') seeds.push(synapseToolsSeed(synapse));
  const children: ChildProcess[] = [];
  let child: ChildProcess | undefined;
  let seen = '';
  let pid = 0;
  let cookStartedAt = 0;
  let readyResolve: () => void = () => {};
  let readyReject: (e: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => { readyResolve = resolve; readyReject = reject; });
  let pidSeen: Promise<void> = Promise.resolve();
  const done = cook({ ...env, STANDIN_NGINX: 'real', STANDIN_SYNAPSE: synapse }, {
    ...options, seeds, renderOnly: false, privateNetwork: true,
    onSpawn: (c) => {
      child = c;
      c.stdout!.on('data', (d: Buffer) => {
        seen += d;
        const m = /cook pid (\d+)/.exec(seen);
        if (!pid && m) { pid = Number(m[1]); cookStartedAt = Date.now(); pidSeen = Promise.resolve(options.onPid?.(pid)); }
        if (seen.includes('cook: ready')) pidSeen.then(readyResolve, readyReject);
      });
      c.stderr!.on('data', (d: Buffer) => { seen += d; });
    },
  }).then((r) => {
    for (const c of children) c.kill('SIGKILL');
    readyReject(new Error(`cook exited ${r.code} before it was ready:\n${r.output}`));
    return r;
  });
  await ready;
  const exec = (command: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> =>
    new Promise((resolve, reject) => {
      const p = spawn('nsenter', ['-t', String(pid), '-m', '-n', '-r', '-w', '--', '/usr/bin/env', '-i', `PATH=${JAIL_PATH}`, 'HOME=/root', 'LANG=C.UTF-8', ...command],
        { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
      p.stdout.on('data', (d: Buffer) => { stdout += d; });
      p.stderr.on('data', (d: Buffer) => { stderr += d; });
      p.on('error', reject);
      p.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? 128, stdout, stderr }); });
      p.stdin.on('error', () => { /* the command did not read its input */ });
      p.stdin.end(opts.input ?? '');
    });
  return {
    pid,
    cookStartedAt,
    output: () => seen,
    exec,
    spawn(command: string[]) {
      const p = spawn('nsenter', ['-t', String(pid), '-m', '-n', '-r', '-w', '--', '/usr/bin/env', '-i', `PATH=${JAIL_PATH}`, 'HOME=/root', ...command],
        { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(p);
      return p;
    },
    async stop() {
      for (const c of children) c.kill('SIGTERM');
      if (child) signalJail(child, 'SIGTERM');
      return done;
    },
    done,
  };
}

/**
 * The Synapse package's command-line tools where the image has them
 * (/usr/local/bin), pointing at the real Synapse's siblings, so operators'
 * commands (register_new_matrix_user …) run inside the jail unchanged.
 */
function synapseToolsSeed(command: string): string {
  const seed = tempDir('synapse-tools-');
  mkdirSync(join(seed, 'usr', 'local', 'bin'), { recursive: true });
  for (const tool of ['register_new_matrix_user', 'synapse_port_db']) {
    const target = join(dirname(command), tool);
    if (!existsSync(target)) continue;
    writeFileSync(join(seed, 'usr', 'local', 'bin', tool), `#!/bin/sh\nexec '${target.replace(/'/g, `'\\''`)}' "$@"\n`, { mode: 0o755 });
  }
  return seed;
}

/** GET/POST through the jail's nginx with curl inside the jail; returns status, headers and body. */
export async function request(jail: LiveJail, url: string, options: { method?: string; body?: unknown; headers?: string[]; curl?: string[] } = {}): Promise<{ status: number; headers: string; body: string; json: () => any }> {
  const args = ['curl', '-sS', '-i', '--max-time', '30', ...(options.curl ?? [])];
  if (options.method) args.push('-X', options.method);
  for (const h of options.headers ?? []) args.push('-H', h);
  if (options.body !== undefined) args.push('-H', 'Content-Type: application/json', '--data-binary', '@-');
  args.push(url);
  const r = await jail.exec(args, { input: options.body === undefined ? '' : JSON.stringify(options.body) });
  if (r.code !== 0) throw new Error(`curl ${url} failed (exit ${r.code}): ${r.stderr.trim()}`);
  const text = r.stdout.replace(/\r/g, '');
  // Skip interim responses (100 Continue).
  const parts = text.split('\n\n');
  let i = 0;
  while (/^HTTP\/[\d.]+ 1\d\d/.test(parts[i] ?? '') && i < parts.length - 1) i++;
  const headers = parts[i] ?? '';
  const body = parts.slice(i + 1).join('\n\n');
  return { status: Number(/^HTTP\/[\d.]+ (\d+)/.exec(headers)?.[1] ?? 0), headers, body, json: () => JSON.parse(body) };
}

/** Wait until URL answers 200 "OK" (Nomad's health check), polling within DEADLINE ms. */
export async function waitHealthy(jail: LiveJail, url = 'http://127.0.0.1/health', deadlineMs = 180_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const r = await jail.exec(['curl', '-s', '--max-time', '5', url]);
    if (r.code === 0 && r.stdout === 'OK') return Date.now() - started;
    if (Date.now() - started > deadlineMs) throw new Error(`${url} not OK after ${deadlineMs} ms:\n${jail.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
