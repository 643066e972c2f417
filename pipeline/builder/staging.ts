// What the builder needs from this machine travels as one tar stream (the `tar`
// package): the flavour files under `flavours/`, modes kept, owners dropped
// (the builder's root owns what it unpacks), mtimes kept so unchanged files
// look unchanged.
import { existsSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import * as tar from 'tar';
import { InputError } from '../errors.js';

/** A tar stream of `entries` (paths relative to `cwd`; folders end in `/`), each stored under `prefix/`. */
export function tarStream(cwd: string, entries: readonly string[], prefix: string): Readable {
  // portable: no uid/gid/user names in the headers, nothing about this machine crosses.
  // noDirRecurse: every folder is listed itself (its mode, even when empty), its contents once.
  return tar.c({ cwd, portable: true, prefix, gzip: false, noDirRecurse: true }, [...entries]) as unknown as Readable;
}

/**
 * The source of flavour `name`: `name`, `name.sh` and everything under `name.d/` (folders,
 * ending in `/`, before their contents; files; symbolic links that stay inside `name.d/`),
 * as paths relative to `sourceDir`. Anything else in the payload is refused with a line naming it:
 * a link that leaves the payload would be followed on the builder, a device or FIFO is no file.
 */
export function flavourFiles(sourceDir: string, name: string): string[] {
  const out: string[] = [];
  for (const f of [name, `${name}.sh`]) {
    const p = join(sourceDir, f);
    if (existsSync(p) && statSync(p).isFile()) out.push(f);
  }
  const payload = join(sourceDir, `${name}.d`);
  if (existsSync(payload) && statSync(payload).isDirectory()) {
    const walk = (dir: string) => {
      out.push(`${relative(sourceDir, dir)}/`);
      for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        const p = join(dir, entry.name);
        const shown = relative(sourceDir, p);
        if (entry.isDirectory()) walk(p);
        else if (entry.isFile()) out.push(shown);
        else if (entry.isSymbolicLink()) {
          const target = readlinkSync(p);
          const inside = relative(payload, resolve(dirname(p), target));
          if (isAbsolute(target) || inside === '..' || inside.startsWith(`..${sep}`)) {
            throw new InputError(`flavour ${name}: ${shown} is a symbolic link to ${target}, outside ${name}.d/; put the file itself there instead`);
          }
          out.push(shown);
        } else {
          throw new InputError(`flavour ${name}: ${shown} is not a file, folder or symbolic link; remove it from ${name}.d/`);
        }
      }
    };
    walk(payload);
  }
  return out;
}

/** How many of `entries` are files (not folders), for messages. */
export function fileCount(entries: readonly string[]): number {
  return entries.filter((e) => !e.endsWith('/')).length;
}
