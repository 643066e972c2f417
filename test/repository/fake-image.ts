// Small fake images for the repository tests: random ".xz" bytes, a ".meta", the real
// Skein-1024 digest over both (the artifacts step's own function) and a real signify
// signature from a key made by signify-openbsd.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { skein1024Hex, skeinLine } from '../../pipeline/artifacts/skein1024.js';

export const POT = 'matrix-synapse-nomad-amd64-13_0';

export interface KeyPair { pub: string; sec: string }

/** An unencrypted signify key pair (signify -G -n). */
export function makeKeyPair(dir: string, name = 'test'): KeyPair {
  const pub = join(dir, `${name}.pub`);
  const sec = join(dir, `${name}.sec`);
  execFileSync('signify-openbsd', ['-G', '-n', '-p', pub, '-s', sec], { stdio: 'ignore' });
  return { pub, sec };
}

export interface FakeImageOptions {
  pot?: string;
  bytes?: number;
  key?: KeyPair;
  packages?: boolean;
  /** Fill byte pattern instead of random bytes (to make "the same" image twice). */
  content?: Buffer;
}

/** Writes <pot>_<tag>.xz, .xz.meta, .xz.skein (and .xz.skein.sig, .packages.json) into a new folder; returns it. */
export function makeImage(parent: string, tag: string, options: FakeImageOptions = {}): string {
  const pot = options.pot ?? POT;
  const dir = join(parent, `out-${tag}-${randomBytes(3).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${pot}_${tag}`);
  const xz = options.content ?? randomBytes(options.bytes ?? 48 * 1024);
  const meta = Buffer.from('-\n');
  writeFileSync(`${base}.xz`, xz);
  writeFileSync(`${base}.xz.meta`, meta);
  writeFileSync(`${base}.xz.skein`, skeinLine(skein1024Hex(Buffer.concat([xz, meta]))));
  if (options.key) execFileSync('signify-openbsd', ['-S', '-s', options.key.sec, '-m', `${base}.xz.skein`], { stdio: 'ignore' });
  if (options.packages) writeFileSync(`${base}.packages.json`, JSON.stringify({ inputs: { fingerprint: `fp-${tag}` }, packages: [{ name: 'py311-matrix-synapse', version: '1.100.0' }] }) + '\n');
  return dir;
}

export function readJson(path: string): any { // eslint-disable-line @typescript-eslint/no-explicit-any
  return JSON.parse(readFileSync(path, 'utf8'));
}
