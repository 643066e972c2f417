// The digest pot puts in `<pot>_<tag>.xz.skein`: Skein-1024 over the .xz bytes
// followed by the .meta bytes (`cat F F.meta | skein1024 -q`). Computed while
// the .xz streams past (being written, read, uploaded or downloaded), so an
// image is never read twice.
import { readFile } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { absorbFile } from './skein-file.js';
import { Skein1024 } from './skein1024.js';

export class ImageDigest {
  private readonly skein = new Skein1024();
  private bytes = 0;

  /** .xz bytes seen so far. */
  get xzBytes(): number {
    return this.bytes;
  }

  addXz(chunk: Uint8Array): void {
    this.skein.update(chunk);
    this.bytes += chunk.length;
  }

  /** Add a whole .xz file, read straight into the hashing engine. */
  async addXzFile(path: string): Promise<void> {
    this.bytes += await absorbFile(this.skein, path);
  }

  /** A pass-through stream: pipe the .xz through it to hash it on the way. */
  xzTap(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) => {
        this.addXz(chunk);
        callback(null, chunk);
      },
    });
  }

  /** Add the .meta bytes (null/undefined = absent = empty, as pot import does) and return the hex digest. */
  finish(meta: Uint8Array | string | null | undefined): string {
    if (meta !== null && meta !== undefined) this.skein.update(meta);
    return this.skein.hexDigest();
  }
}

export async function digestImageStream(xz: AsyncIterable<Uint8Array>, meta: Uint8Array | string | null): Promise<string> {
  const digest = new ImageDigest();
  for await (const chunk of xz) digest.addXz(chunk);
  return digest.finish(meta);
}

/** Digest of the files on disk; a missing .meta counts as empty. */
export async function digestImageFiles(xzPath: string, metaPath?: string): Promise<string> {
  const digest = new ImageDigest();
  await digest.addXzFile(xzPath);
  let meta: Uint8Array | null = null;
  if (metaPath) {
    try {
      meta = await readFile(metaPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return digest.finish(meta);
}
