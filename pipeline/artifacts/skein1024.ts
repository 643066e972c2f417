// Skein-1024-1024 as FreeBSD's `skein1024 -q` computes it. (Interim: buffers
// and hashes with the BigInt reference; replaced by the streaming engine.)
import { skein1024Reference } from './skein-reference.js';

export class Skein1024 {
  private parts: Uint8Array[] = [];
  update(data: Uint8Array | string): this {
    this.parts.push(typeof data === 'string' ? Buffer.from(data) : Uint8Array.from(data));
    return this;
  }
  digest(): Uint8Array {
    return skein1024Reference(Buffer.concat(this.parts));
  }
  hexDigest(): string {
    return Buffer.from(this.digest()).toString('hex');
  }
}

/** Skein-1024-1024 of `data` as 256 lowercase hex digits (no newline). */
export function skein1024Hex(data: Uint8Array | string): string {
  return new Skein1024().update(data).hexDigest();
}
