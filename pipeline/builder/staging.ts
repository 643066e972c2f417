// What the builder needs from this machine travels as one tar stream (the `tar`
// package): the flavour files under `flavours/`, modes kept, owners dropped
// (the builder's root owns what it unpacks), mtimes kept so unchanged files
// look unchanged.
import type { Readable } from 'node:stream';
import * as tar from 'tar';

/** A tar stream of `files` (paths relative to `cwd`), each stored under `prefix/`. */
export function tarStream(cwd: string, files: readonly string[], prefix: string): Readable {
  // portable: no uid/gid/user names in the headers, nothing about this machine crosses.
  return tar.c({ cwd, portable: true, prefix, gzip: false }, [...files]) as unknown as Readable;
}
