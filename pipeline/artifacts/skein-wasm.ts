// Generates, at first use, a WebAssembly module with Skein-1024's UBI
// compression: Threefish-1024 fully unrolled over native 64-bit words, with
// the word permutation done by renaming locals instead of moving data.
// JavaScript has no fast 64-bit integers; WebAssembly's i64 add/rotate/xor map
// to single machine instructions, which is what gets us near native speed.
import { Code, I32, I64, encodeModule, op } from './wasm-encoder.js';
import { BLOCK_BYTES, FLAG_FIRST, KEY_PARITY, PERMUTATION_1024, ROTATIONS_1024, ROUNDS, WORDS } from './skein-constants.js';

/** Memory layout of one engine instance. */
export const CHAIN_OFFSET = 0; // 16 words: the chaining value
export const TWEAK_OFFSET = 128; // T0 (bytes processed), T1 (type and flags)
export const INPUT_OFFSET = 256; // message blocks to compress
export const INPUT_BYTES = 64 * 1024;
const MEMORY_PAGES = Math.ceil((INPUT_OFFSET + INPUT_BYTES) / 65536);

// Local variable indexes: two params, then the working registers.
const P_BLOCKS = 0;
const P_BYTES = 1;
const PTR = 2;
const X = 3; // x0..x15
const K = X + WORDS; // k0..k16 (k16 is the parity word)
const T = K + WORDS + 1; // t0, t1, t2

function buildCompress(): Code {
  const c = new Code();
  // ptr = INPUT_OFFSET; load tweak and chaining value
  c.i32(INPUT_OFFSET).set(PTR);
  c.i32(0).load64(TWEAK_OFFSET).set(T);
  c.i32(0).load64(TWEAK_OFFSET + 8).set(T + 1);
  for (let i = 0; i < WORDS; i++) c.i32(0).load64(CHAIN_OFFSET + 8 * i).set(K + i);

  c.emit(op.loop, op.void_block);
  // T0 += bytes in this block; t2 = t0 ^ t1; k16 = C240 ^ k0 ^ ... ^ k15
  c.get(T).get(P_BYTES).emit(op.i64_extend_i32_u, op.i64_add).set(T);
  c.get(T).get(T + 1).emit(op.i64_xor).set(T + 2);
  c.i64(KEY_PARITY);
  for (let i = 0; i < WORDS; i++) c.get(K + i).emit(op.i64_xor);
  c.set(K + WORDS);

  // names[i]: which local holds logical word i (the permutation renames).
  let names = Array.from({ length: WORDS }, (_, i) => X + i);
  const inject = (s: number, first: boolean): void => {
    for (let i = 0; i < WORDS; i++) {
      if (first) c.get(PTR).load64(8 * i); else c.get(names[i]!);
      c.get(K + ((s + i) % (WORDS + 1))).emit(op.i64_add);
      if (i === WORDS - 3) c.get(T + (s % 3)).emit(op.i64_add);
      if (i === WORDS - 2) c.get(T + ((s + 1) % 3)).emit(op.i64_add);
      if (i === WORDS - 1 && s !== 0) c.i64(BigInt(s)).emit(op.i64_add);
      c.set(names[i]!);
    }
  };
  inject(0, true);
  for (let d = 0; d < ROUNDS; d++) {
    for (let j = 0; j < WORDS / 2; j++) {
      const a = names[2 * j]!;
      const b = names[2 * j + 1]!;
      c.get(a).get(b).emit(op.i64_add).set(a);
      c.get(b).i64(BigInt(ROTATIONS_1024[d % 8]![j]!)).emit(op.i64_rotl).get(a).emit(op.i64_xor).set(b);
    }
    names = PERMUTATION_1024.map((p) => names[p]!);
    if (d % 4 === 3) inject((d + 1) / 4, false);
  }
  // New chaining value = E(K, T, M) ^ M
  for (let i = 0; i < WORDS; i++) c.get(names[i]!).get(PTR).load64(8 * i).emit(op.i64_xor).set(K + i);
  // Clear the FIRST flag, advance to the next block.
  c.get(T + 1).i64(~FLAG_FIRST).emit(op.i64_and).set(T + 1);
  c.get(PTR).i32(BLOCK_BYTES).emit(op.i32_add).set(PTR);
  c.get(P_BLOCKS).i32(1).emit(op.i32_sub).emit(op.local_tee, P_BLOCKS).emit(op.br_if, 0);
  c.emit(op.end);

  c.i32(0).get(T).store64(TWEAK_OFFSET);
  c.i32(0).get(T + 1).store64(TWEAK_OFFSET + 8);
  for (let i = 0; i < WORDS; i++) c.i32(0).get(K + i).store64(CHAIN_OFFSET + 8 * i);
  return c;
}

export interface SkeinEngine {
  memory: WebAssembly.Memory;
  /** Compress `blocks` (>= 1) blocks at INPUT_OFFSET, adding `bytesPerBlock` to T0 before each. */
  compress(blocks: number, bytesPerBlock: number): void;
}

let compiled: WebAssembly.Module | undefined;

/** The module bytes (exported for tests and the benchmark). */
export function skeinWasmBytes(): Uint8Array<ArrayBuffer> {
  return encodeModule(MEMORY_PAGES, [{
    name: 'compress',
    params: [I32, I32],
    locals: [[1, I32], [WORDS + WORDS + 1 + 3, I64]],
    body: buildCompress(),
  }]);
}

/** A fresh engine instance with its own memory (instances are cheap; the module is compiled once). */
export function createSkeinEngine(): SkeinEngine {
  compiled ??= new WebAssembly.Module(skeinWasmBytes());
  const instance = new WebAssembly.Instance(compiled, {});
  const exports = instance.exports as unknown as { memory: WebAssembly.Memory; compress(n: number, b: number): void };
  return { memory: exports.memory, compress: exports.compress };
}
