// The builder-host seam (Packer's Communicator): every command the build runs
// and every file operation it needs on a machine goes through a BuilderHost.
// Three implementations: the local machine, the plan (--dry-run records each
// operation as the shell command it amounts to) and a builder over SSH. The
// steps never touch a disk themselves, so they run unchanged on all three.
import type { Readable } from 'node:stream';
import type { CommandRunner, RunOptions, RunResult } from '../runner/types.js';

/** A file streamed back from a host: its size (for progress) and its bytes. */
export interface FileStream {
  size: number;
  stream: Readable;
}

/** Files streamed back together: `sizes[i]` bytes of `paths[i]` follow each other in `stream` (missing ones contribute none). */
export interface FilesStream {
  sizes: (number | undefined)[];
  stream: Readable;
}

export interface BuilderHost extends CommandRunner {
  /** Where operations run: '' for this machine, `user@host:port` for a remote builder (shown in the plan and errors). */
  readonly where: string;
  /** A fresh, empty folder `<tmp>/<prefix>XXXXXX` (mode 0700 unless given); its path. */
  makeTempDir(prefix: string, mode?: number): Promise<string>;
  /** Folders `<tmp>/<prefix>*` that exist (leftovers of an earlier build). */
  listTemp(prefix: string): Promise<string[]>;
  /** `mkdir -p`; with `mode`, the (new) folder gets exactly that mode, whatever the umask. */
  makeDir(path: string, mode?: number): Promise<void>;
  /** Unpack a tar stream into the existing folder `dir`, modes preserved. `what` names the content for the plan. */
  writeFolder(dir: string, tar: Readable, what: string): Promise<void>;
  /** Write a small file (atomically: temporary name, then rename). */
  writeFile(path: string, data: string | Uint8Array, mode?: number): Promise<void>;
  /** A small file's bytes, or undefined when it does not exist. */
  readFile(path: string): Promise<Buffer | undefined>;
  /** Stream a (large) file back. */
  openRead(path: string): Promise<FileStream>;
  /**
   * Several files back in one go (one round trip to a remote builder): the size of
   * each (undefined: missing) and one stream of their bytes back to back, in order.
   */
  openReadAll(paths: readonly string[]): Promise<FilesStream>;
  exists(path: string): Promise<boolean>;
  /** Can this process write into the folder? */
  writable(path: string): Promise<boolean>;
  rename(from: string, to: string): Promise<void>;
  /** `rm -rf`: nothing there is fine. */
  remove(path: string): Promise<void>;
  /**
   * Work done in this process (signing, verifying, publishing), described by the
   * shell command it amounts to: a real host logs the line and runs `work`, the
   * plan records the line and skips it (returning undefined).
   */
  inProcess<T>(line: string, work: () => Promise<T>): Promise<T | undefined>;
  /** A base URL through which this machine reaches `ip:port` on the host (the smoke test's jail). */
  reach(ip: string, port: number): Promise<string>;
  /** Release the host (close the SSH connection). */
  close(): Promise<void>;
}

/** True when a result was recorded by the plan, not answered by a real host: no verdict can be drawn from it. */
export function answered(result: RunResult): boolean {
  return !result.planned;
}

export type { CommandRunner, RunOptions, RunResult };

/**
 * The prefix of every temporary folder a build of `pot` makes on the builder (staging, the
 * package catalogue, the smoke test's task folder), so the next build's preflight finds and
 * names whatever a dropped connection or a reboot left behind.
 */
export function builderTempPrefix(pot: string): string {
  return `pot-image.${pot}.`;
}
