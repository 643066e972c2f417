// A slow, literal Skein-1024-1024 written straight from the specification with
// BigInt words. It is not used for real work (it runs at about 1 MB/s); the
// tests use it as a second, independently structured implementation to check
// the fast WebAssembly engine against, block boundary by block boundary.
import {
  BLOCK_BYTES, CONFIG_BYTES, FLAG_FINAL, FLAG_FIRST, KEY_PARITY, PERMUTATION_1024, ROTATIONS_1024,
  ROUNDS, TYPE_CFG, TYPE_MSG, TYPE_OUT, WORDS, configBlock,
} from './skein-constants.js';

const MASK = (1n << 64n) - 1n;

function rotl(x: bigint, n: number): bigint {
  const s = BigInt(n);
  return ((x << s) | (x >> (64n - s))) & MASK;
}

/** Threefish-1024 encryption of one block: key and plaintext are 16 words, tweak 2 words. */
export function threefish1024(key: readonly bigint[], tweak: readonly bigint[], plain: readonly bigint[]): bigint[] {
  const k = [...key, key.reduce((a, b) => a ^ b, KEY_PARITY)];
  const t = [tweak[0]!, tweak[1]!, tweak[0]! ^ tweak[1]!];
  const subkey = (s: number, i: number): bigint => {
    let v = k[(s + i) % (WORDS + 1)]!;
    if (i === WORDS - 3) v += t[s % 3]!;
    if (i === WORDS - 2) v += t[(s + 1) % 3]!;
    if (i === WORDS - 1) v += BigInt(s);
    return v & MASK;
  };
  let v = [...plain];
  for (let d = 0; d < ROUNDS; d++) {
    if (d % 4 === 0) v = v.map((x, i) => (x + subkey(d / 4, i)) & MASK);
    const f: bigint[] = new Array(WORDS);
    for (let j = 0; j < WORDS / 2; j++) {
      const x0 = v[2 * j]!;
      const x1 = v[2 * j + 1]!;
      const y0 = (x0 + x1) & MASK;
      f[2 * j] = y0;
      f[2 * j + 1] = rotl(x1, ROTATIONS_1024[d % 8]![j]!) ^ y0;
    }
    v = PERMUTATION_1024.map((p) => f[p]!);
  }
  return v.map((x, i) => (x + subkey(ROUNDS / 4, i)) & MASK);
}

function wordsOf(block: Uint8Array): bigint[] {
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  return Array.from({ length: WORDS }, (_, i) => view.getBigUint64(8 * i, true));
}

/** UBI(G, M, type): chain `message` into the chaining value `g`. */
function ubi(g: bigint[], message: Uint8Array, type: bigint): bigint[] {
  const blocks = Math.max(1, Math.ceil(message.length / BLOCK_BYTES));
  let chain = g;
  for (let b = 0; b < blocks; b++) {
    const block = new Uint8Array(BLOCK_BYTES);
    const part = message.subarray(b * BLOCK_BYTES, (b + 1) * BLOCK_BYTES);
    block.set(part);
    const position = BigInt(b * BLOCK_BYTES + part.length);
    let t1 = type << 56n;
    if (b === 0) t1 |= FLAG_FIRST;
    if (b === blocks - 1) t1 |= FLAG_FINAL;
    const m = wordsOf(block);
    const e = threefish1024(chain, [position, t1], m);
    chain = e.map((x, i) => x ^ m[i]!);
  }
  return chain;
}

/** Skein-1024-1024 of `data`, one shot. */
export function skein1024Reference(data: Uint8Array): Uint8Array {
  const zero = new Array<bigint>(WORDS).fill(0n);
  const iv = ubi(zero, configBlock(1024).subarray(0, CONFIG_BYTES), TYPE_CFG);
  const g = ubi(iv, data, TYPE_MSG);
  const out = ubi(g, new Uint8Array(8), TYPE_OUT);
  const result = new Uint8Array(BLOCK_BYTES);
  const view = new DataView(result.buffer);
  out.forEach((w, i) => view.setBigUint64(8 * i, w, true));
  return result;
}
