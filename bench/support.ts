// What the benchmarks share: a signed fake image written and digested in one
// pass (as the pipeline does), the CLI as users run it, and peak-RSS polling.
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageDigest } from '../pipeline/artifacts/image-digest.js';
import { generateKeyFiles, signFile } from '../pipeline/artifacts/signify.js';
import { skeinLine } from '../pipeline/artifacts/skein1024.js';

export const MIB = 1024 * 1024;
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** `<dir>/<base>.xz` of random bytes plus `.meta`, `.skein` and `.skein.sig`; returns the key files. */
export async function writeSignedImage(dir: string, base: string, sizeMiB: number, keyDir: string): Promise<{ pub: string; sec: string }> {
  const digest = new ImageDigest();
  const fd = openSync(join(dir, `${base}.xz`), 'w');
  const chunk = Buffer.alloc(4 * MIB);
  for (let written = 0; written < sizeMiB * MIB; written += chunk.length) {
    randomFillSync(chunk);
    digest.addXz(chunk);
    writeSync(fd, chunk);
  }
  closeSync(fd);
  writeFileSync(join(dir, `${base}.xz.meta`), '-\n');
  writeFileSync(join(dir, `${base}.xz.skein`), skeinLine(digest.finish('-\n')));
  const pub = join(keyDir, 'bench.pub');
  const sec = join(keyDir, 'bench.sec');
  await generateKeyFiles(pub, sec, { passphrase: null });
  await signFile(sec, join(dir, `${base}.xz.skein`));
  return { pub, sec };
}

/** A file of `sizeMiB` MiB of random bytes. */
export function writeRandomFile(path: string, sizeMiB: number): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(4 * MIB);
  for (let written = 0; written < sizeMiB * MIB; written += chunk.length) writeSync(fd, randomFillSync(chunk), 0, Math.min(chunk.length, sizeMiB * MIB - written));
  closeSync(fd);
}

/** Median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** How a bench line ends: the target and whether it was met, NOT met in capitals. */
export function judge(met: boolean, target: string): string {
  return `${target}: ${met ? 'met' : 'NOT met'}`;
}

/** The CLI as users run it (compiled); through tsx when dist/ is missing. */
export function cliCommand(): { args: string[]; how: string } {
  const compiled = join(ROOT, 'dist', 'pipeline', 'cli', 'main.js');
  if (existsSync(compiled)) return { args: [compiled], how: 'node dist/pipeline/cli/main.js' };
  return { args: ['--import', 'tsx', join(ROOT, 'pipeline', 'cli', 'main.ts')], how: 'node --import tsx pipeline/cli/main.ts (no dist/: run npm run build)' };
}

/** Peak resident set (VmHWM) of a running process, from /proc; undefined once it has exited. */
export function vmHwmKiB(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}
