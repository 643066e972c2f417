// Read a file through a small ring of reused buffers: an upload of any size then
// allocates nothing per chunk (no garbage for the collector to fall behind on),
// which keeps peak memory flat. The consumer must be done with a chunk, and its
// write flushed, before the same ring slot comes round again: `release` says when.
import { open } from 'node:fs/promises';

/** The local file could not be read (as opposed to the destination failing). */
export class LocalReadError extends Error {}

export const CHUNK_BYTES = 1024 * 1024;
const RING = 8;

/** Calls `consume` with each chunk in order; a returned `released` promise marks when that
 *  chunk's buffer may be reused (wrapped in an object: an async function would wait for it). */
export async function forEachChunk(
  path: string,
  consume: (chunk: Buffer) => Promise<{ released: Promise<void> } | void>,
  signal?: AbortSignal,
): Promise<number> {
  const local = (error: unknown) => new LocalReadError(`cannot read ${path}: ${(error as Error).message}`);
  const handle = await open(path, 'r').catch((error: unknown) => { throw local(error); });
  const ring = Array.from({ length: RING }, () => Buffer.allocUnsafe(CHUNK_BYTES));
  const inUse: (Promise<void> | undefined)[] = [];
  let total = 0;
  try {
    for (let i = 0; ; i++) {
      const slot = i % RING;
      await inUse[slot];
      signal?.throwIfAborted();
      const { bytesRead } = await handle.read(ring[slot]!, 0, CHUNK_BYTES, null).catch((error: unknown) => { throw local(error); });
      if (bytesRead === 0) break;
      total += bytesRead;
      const released = (await consume(ring[slot]!.subarray(0, bytesRead)))?.released;
      // Never leave a rejection unobserved; the caller sees the failure through its own path.
      released?.catch(() => undefined);
      inUse[slot] = released;
    }
    await Promise.all(inUse);
    return total;
  } finally {
    await handle.close();
  }
}
