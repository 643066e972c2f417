// Artifacts come home: the export's .meta and .skein, then the .xz streamed
// from the builder into this machine's arrival folder, its Skein-1024 computed
// as the bytes arrive (no second pass) and compared with the builder's .skein.
// Never trust pot export's exit code: every file must exist, be non-empty and
// well-formed (its meta/skein/signify failures delete files silently).
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ImageDigest } from '../artifacts/image-digest.js';
import { UserError } from '../errors.js';
import type { BuilderHost } from './host.js';

/** `-` (standalone image) or `ORIGIN_POT:ORIGIN_TAG@ORIGIN_SNAP` (layered), one line. */
export function validMeta(text: string): boolean {
  const line = text.replace(/\n$/, '');
  return line === '-' || /^[^\s:@]+:[^\s:@]+@[^\s:@]+$/.test(line);
}

/** 256 lowercase hex digits and a newline, what `skein1024 -q` prints. */
export function validSkeinFile(text: string): boolean {
  return /^[0-9a-f]{256}\n?$/.test(text);
}

export interface ExportFiles { xz: string; meta: string; skein: string }

/** Progress: bytes of the .xz received so far and its size. */
export type Progress = (received: number, total: number) => void;

async function small(builder: BuilderHost, path: string): Promise<Buffer> {
  const data = await builder.readFile(path);
  if (data === undefined) throw new UserError(`pot export exited 0 but did not write ${basename(path)}; see the build log`);
  if (data.length === 0) throw new UserError(`pot export wrote an empty ${basename(path)}; see the build log`);
  return data;
}

/**
 * Bring the export files `from` (on the builder) to `to` (paths on this machine, in
 * an existing folder); returns the verified digest. Throws a one-line UserError
 * naming the first missing, empty, malformed or corrupt file.
 */
export async function bringHome(builder: BuilderHost, from: ExportFiles, to: ExportFiles, progress: Progress = () => undefined): Promise<{ digest: string; sizes: { xz: number; meta: number; skein: number } }> {
  if (!(await builder.exists(from.xz))) throw new UserError(`pot export exited 0 but did not write ${basename(from.xz)}; see the build log`);
  const meta = await small(builder, from.meta);
  if (!validMeta(meta.toString('utf8'))) throw new UserError(`${basename(from.meta)} holds '${meta.toString('utf8').trim().slice(0, 60)}', not '-' or ORIGIN:TAG@SNAP`);
  const skein = await small(builder, from.skein);
  if (!validSkeinFile(skein.toString('utf8'))) throw new UserError(`${basename(from.skein)} is not a Skein-1024 digest (256 hex digits)`);

  const { size, stream } = await builder.openRead(from.xz);
  if (size === 0) {
    stream.destroy();
    throw new UserError(`pot export wrote an empty ${basename(from.xz)}; see the build log`);
  }
  const digest = new ImageDigest();
  let received = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      progress(received, size);
      callback(null, chunk);
    },
  });
  await pipeline(stream, digest.xzTap(), count, createWriteStream(to.xz));
  if (received !== size) throw new UserError(`${basename(from.xz)} arrived with ${received} of its ${size} bytes; the connection to the builder broke`);
  const actual = digest.finish(meta);
  if (actual !== skein.toString('utf8').trim()) {
    throw new UserError(`${basename(from.skein)} does not match the Skein-1024 of ${basename(from.xz)} + .meta: the export is corrupt`);
  }
  await writeFile(to.meta, meta);
  await writeFile(to.skein, skein);
  return { digest: actual, sizes: { xz: received, meta: meta.length, skein: skein.length } };
}
