// Shared by the image tests: run the image's real cook in the jail sandbox
// and read what it rendered.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runCook, type CookRun, type RunResult } from '../../scripts/cook-render.js';
import { tempDir } from '../helpers/tmp.js';

export const SHARED_SECRET = 'a-shared-secret-of-enough-length';

/** The smallest valid set of parameters (no TLS, so no ACME email). */
export const MINIMAL: Record<string, string> = {
  DOMAIN: 'example.com',
  ALERTEMAIL: 'admin@example.com',
  MYSHAREDSECRET: SHARED_SECRET,
  NOSSL: 'true',
};

/** Why the jail sandbox cannot run here, or undefined when it can. */
export function jailUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (mount namespace)';
  return undefined;
}

export interface Rendered extends RunResult {
  out: string;
  file(path: string): string;
  exists(path: string): boolean;
  mode(path: string): number;
  homeserver(): Record<string, any>;
  standIns(): string[];
  output: string;
}

export function rendered(out: string, result: RunResult): Rendered {
  const at = (path: string) => join(out, path);
  return {
    ...result,
    out,
    output: result.stdout + result.stderr,
    file: (path) => readFileSync(at(path), 'utf8'),
    exists: (path) => existsSync(at(path)),
    mode: (path) => statSync(at(path)).mode & 0o7777,
    homeserver: () => parse(readFileSync(at('usr/local/etc/matrix-synapse/homeserver.yaml'), 'utf8')),
    standIns: () => existsSync(at('var/log/stand-ins.log')) ? readFileSync(at('var/log/stand-ins.log'), 'utf8').split('\n').filter(Boolean) : [],
  };
}

/** Run cook (render only unless told otherwise) in a fresh clone; OUT is a new temp folder. */
export async function cook(env: Record<string, string>, options: Partial<CookRun> = {}): Promise<Rendered> {
  const out = options.out ?? join(tempDir('cook-out-'), 'tree');
  const result = await runCook({ ...options, out, env });
  return rendered(out, result);
}
