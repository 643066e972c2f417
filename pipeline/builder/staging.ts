// What the builder needs from this machine travels as one tar stream (the `tar`
// package): the flavour files under `flavours/`, modes kept, owners dropped
// (the builder's root owns what it unpacks), mtimes kept so unchanged files
// look unchanged.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import * as tar from 'tar';

/** A tar stream of `files` (paths relative to `cwd`), each stored under `prefix/`. */
export function tarStream(cwd: string, files: readonly string[], prefix: string): Readable {
  // portable: no uid/gid/user names in the headers, nothing about this machine crosses.
  return tar.c({ cwd, portable: true, prefix, gzip: false }, [...files]) as unknown as Readable;
}

/** The source files of flavour `name`: `name`, `name.sh` and everything under `name.d/`, as paths relative to `sourceDir`. */
export function flavourFiles(sourceDir: string, name: string): string[] {
  const out: string[] = [];
  for (const f of [name, `${name}.sh`]) {
    const p = join(sourceDir, f);
    if (existsSync(p) && statSync(p).isFile()) out.push(f);
  }
  const payload = join(sourceDir, `${name}.d`);
  if (existsSync(payload) && statSync(payload).isDirectory()) {
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        const p = join(dir, entry.name);
        if (entry.isDirectory()) walk(p);
        else if (entry.isFile()) out.push(relative(sourceDir, p));
      }
    };
    walk(payload);
  }
  return out;
}

