// Skein-1024 of a file, read straight into the hashing engine's memory: no
// intermediate buffer, and the next MiB is read (in libuv's thread pool) while
// the current one is hashed.
import { open } from 'node:fs/promises';
import { Skein1024 } from './skein1024.js';

/** Feeds the whole file at `path` into `skein`; resolves to the number of bytes read. */
export async function absorbFile(skein: Skein1024, path: string): Promise<number> {
  const handle = await open(path, 'r');
  try {
    return await skein.absorb(async (into) => (await handle.read(into, 0, into.length, null)).bytesRead);
  } finally {
    await handle.close();
  }
}

/** The Skein-1024-1024 digest of a file as 256 lowercase hex digits. */
export async function skein1024File(path: string): Promise<string> {
  const skein = new Skein1024();
  await absorbFile(skein, path);
  return skein.hexDigest();
}
