// Artifacts come home: the export's .meta and .skein, then the .xz streamed
// from the builder into this machine's arrival folder, its Skein-1024 computed
// as the bytes arrive (no second pass) and compared with the builder's .skein.
// Never trust pot export's exit code: every file must exist, be non-empty and
// well-formed (its meta/skein/signify failures delete files silently).
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { garbagePacer } from '../artifacts/garbage-pacer.js';
import { UserError } from '../errors.js';
import { ParallelDigest, warmUpDigestWorker } from '../repository/parallel-digest.js';
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

/** Bytes of the .xz the file's writer may hold queued before the receiving loop waits for the disk. */
const WRITE_BUFFER = 8 * 1024 * 1024;

export interface ExportFiles { xz: string; meta: string; skein: string }

/** Progress: bytes of the .xz received so far and its size. */
export type Progress = (received: number, total: number) => void;

/**
 * Bring the export files `from` (on the builder) to `to` (paths on this machine, in
 * an existing folder); returns the verified digest. Throws a one-line UserError
 * naming the first missing, empty, malformed or corrupt file.
 */
export async function bringHome(builder: BuilderHost, from: ExportFiles, to: ExportFiles, progress: Progress = () => undefined): Promise<{ digest: string; sizes: { xz: number; meta: number; skein: number } }> {
  // One request for all three: the small files first, so they are checked before the big one arrives.
  const order = [from.meta, from.skein, from.xz];
  warmUpDigestWorker(); // its thread and engine start while the builder is asked for the files
  const { sizes, stream } = await builder.openReadAll(order);
  const fail = (error: UserError): never => {
    stream.destroy();
    throw error;
  };
  for (const i of [2, 0, 1]) {
    if (sizes[i] === undefined) fail(new UserError(`pot export exited 0 but did not write ${basename(order[i]!)}; see the build log`));
    if (sizes[i] === 0) fail(new UserError(`pot export wrote an empty ${basename(order[i]!)}; see the build log`));
  }
  const [metaSize, skeinSize, size] = sizes as number[];

  // This loop only moves bytes, so it keeps the pipe from ssh drained and ssh keeps streaming:
  // each chunk is copied into the digest worker's bounded pool (Skein runs there, a MiB at a
  // time, while the next MiB arrives) and handed to the file's writer (up to WRITE_BUFFER
  // queued, written while the loop goes on). When either falls behind, and only then, the
  // loop waits and the pipe pushes back on ssh: memory stays flat.
  const digest = new ParallelDigest();
  const out = createWriteStream(to.xz, { highWaterMark: WRITE_BUFFER });
  const closed = new Promise<void>((resolve) => out.once('close', resolve));
  const failed = new Promise<never>((_resolve, reject) => {
    out.once('error', (error) => reject(new UserError(`could not write ${to.xz} (${error.message}); make room there or build with another --output`)));
  });
  failed.catch(() => undefined); // raced below; never an unhandled rejection
  // Chunks die young (copied for the worker, written within WRITE_BUFFER): a minor GC every few
  // MiB frees them before V8's external-memory pressure turns them into full mark-compacts.
  const collect = garbagePacer();
  const parts: Buffer[] = [];
  let head = 0;
  let received = 0;
  let meta: Buffer | undefined;
  let skein: Buffer | undefined;
  let actual: string;
  try {
    try {
      for await (const c of stream) {
        let chunk = c as Buffer;
        if (skein === undefined) {
          // .meta and .skein: collect, then check them before the image's bytes are written.
          const need = metaSize + skeinSize - head;
          const take = chunk.subarray(0, need);
          parts.push(take);
          head += take.length;
          chunk = chunk.subarray(take.length);
          if (head < metaSize + skeinSize) continue;
          const both = Buffer.concat(parts);
          meta = both.subarray(0, metaSize);
          skein = both.subarray(metaSize);
          if (!validMeta(meta.toString('utf8'))) fail(new UserError(`${basename(from.meta)} holds '${meta.toString('utf8').trim().slice(0, 60)}', not '-' or ORIGIN:TAG@SNAP`));
          if (!validSkeinFile(skein.toString('utf8'))) fail(new UserError(`${basename(from.skein)} is not a Skein-1024 digest (256 hex digits)`));
          if (chunk.length === 0) continue;
        }
        await digest.add(chunk);
        received += chunk.length;
        progress(received, size);
        if (!out.write(chunk)) await Promise.race([failed, new Promise<void>((resolve) => out.once('drain', () => resolve()))]);
        collect(chunk.length);
      }
    } catch (error) {
      stream.destroy();
      throw error;
    }
    out.end();
    await Promise.race([failed, closed]); // 'error' comes before 'close'
    if (!meta || !skein || received !== size) {
      throw new UserError(`${basename(from.xz)} arrived with ${received} of its ${size} bytes; the connection to the builder broke`);
    }
    actual = (await digest.finish(meta)).hex;
  } finally {
    out.destroy();
    await closed;
    await digest.close();
  }
  if (actual !== skein.toString('utf8').trim()) {
    throw new UserError(`${basename(from.skein)} does not match the Skein-1024 of ${basename(from.xz)} + .meta: the export is corrupt`);
  }
  await writeFile(to.meta, meta);
  await writeFile(to.skein, skein);
  return { digest: actual, sizes: { xz: received, meta: metaSize, skein: skeinSize } };
}
