// Read a file in chunks through ONE reused buffer: no garbage per chunk, so
// hashing a large image keeps a flat memory profile. The yielded view is only
// valid until the next iteration (hashing consumes it at once).
import { open } from 'node:fs/promises';

export async function* fileChunks(path: string, chunkBytes = 1024 * 1024): AsyncGenerator<Uint8Array> {
  const handle = await open(path, 'r');
  const buffer = Buffer.allocUnsafe(chunkBytes);
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, chunkBytes, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
