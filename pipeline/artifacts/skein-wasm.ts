// Generates, at first use, a WebAssembly module with Skein-1024's UBI
// compression: Threefish-1024 fully unrolled over native 64-bit words, with
// the word permutation done by renaming locals instead of moving data.
// JavaScript has no fast 64-bit integers; WebAssembly's i64 add/rotate/xor map
// to single machine instructions, which is what gets us near native speed.
//
// Shaped for V8's optimizing compiler (measured on x86-64, Node 20):
// - The key schedule stays in locals, but NEGATED, and is subtracted: V8 turns
//   every `x + k` into `lea` (both operands in registers), while `x - nk` becomes
//   `sub`, whose second operand may stay in its stack slot. With 16 state words
//   and 20 key/tweak words live and ~13 registers, that removes a reload per key
//   word and ~8% of all instructions.
// - Key words kept in linear memory instead (loaded where used) were slower: V8
//   schedules all those loads at the top of the block and spills them.
// - No SIMD: WebAssembly SIMD has no 64-bit rotate and no per-lane shift counts,
//   and Threefish-1024's eight MIX operations of a round all rotate by different
//   amounts, so two lanes cost more instructions than two scalar MIXes.
import { Code, I32, I64, encodeModule, op } from './wasm-encoder.js';
import { BLOCK_BYTES, FLAG_FIRST, KEY_PARITY, PERMUTATION_1024, ROTATIONS_1024, ROUNDS, WORDS } from './skein-constants.js';

/** Memory layout of one engine instance. */
export const CHAIN_OFFSET = 0; // 16 words: the chaining value
export const TWEAK_OFFSET = 128; // T0 (bytes processed), T1 (type and flags)
/** Two input regions, each preceded by room for one held-back block (see Skein1024.absorb). */
export const INPUT_BYTES = 1024 * 1024;
export const INPUT_OFFSET = 512; // region A
export const INPUT_B_OFFSET = INPUT_OFFSET + INPUT_BYTES + 512; // region B
const MEMORY_PAGES = Math.ceil((INPUT_B_OFFSET + INPUT_BYTES) / 65536);

// Local variable indexes: three params, then the working registers.
const P_BLOCKS = 0;
const P_BYTES = 1;
const P_PTR = 2; // where the blocks are; advanced block by block
const X = 3; // x0..x15
const NK = X + WORDS; // -k0..-k16 (k16 is the parity word)
const NT = NK + WORDS + 1; // -t0, -t1, -t2
const T0 = NT + 3; // t0, t1 themselves (the tweak advances per block)
const T1 = T0 + 1;
const LOCALS_I64 = T1 + 1 - X;

const i64Sub = 0x7d;

/** NK[i] = -k[i] for the 16 key words `word(i)` pushes, and NK[16] = -(C240 ^ k0 ^ ... ^ k15). Uses X as scratch. */
function negatedKey(c: Code, word: (i: number) => void): void {
  for (let i = 0; i < WORDS; i++) {
    word(i);
    c.set(X + i);
  }
  c.i64(0n).i64(KEY_PARITY);
  for (let i = 0; i < WORDS; i++) c.get(X + i).emit(op.i64_xor);
  c.emit(i64Sub).set(NK + WORDS);
  for (let i = 0; i < WORDS; i++) c.i64(0n).get(X + i).emit(i64Sub).set(NK + i);
}

function buildCompress(): Code {
  const c = new Code();
  c.i32(0).load64(TWEAK_OFFSET).set(T0);
  c.i32(0).load64(TWEAK_OFFSET + 8).set(T1);
  negatedKey(c, (i) => c.i32(0).load64(CHAIN_OFFSET + 8 * i));

  c.emit(op.loop, op.void_block);
  // T0 += bytes in this block; the three negated tweak words
  c.get(T0).get(P_BYTES).emit(op.i64_extend_i32_u, op.i64_add).set(T0);
  c.i64(0n).get(T0).emit(i64Sub).set(NT);
  c.i64(0n).get(T1).emit(i64Sub).set(NT + 1);
  c.i64(0n).get(T0).get(T1).emit(op.i64_xor).emit(i64Sub).set(NT + 2);

  // names[i]: which local holds logical word i (the permutation renames).
  let names = Array.from({ length: WORDS }, (_, i) => X + i);
  const inject = (s: number, first: boolean): void => {
    for (let i = 0; i < WORDS; i++) {
      if (first) c.get(P_PTR).load64(8 * i); else c.get(names[i]!);
      c.get(NK + ((s + i) % (WORDS + 1))).emit(i64Sub);
      if (i === WORDS - 3) c.get(NT + (s % 3)).emit(i64Sub);
      if (i === WORDS - 2) c.get(NT + ((s + 1) % 3)).emit(i64Sub);
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
  // New chaining value = E(K, T, M) ^ M, kept negated for the next block.
  const final = names;
  for (let i = 0; i < WORDS; i++) c.get(final[i]!).get(P_PTR).load64(8 * i).emit(op.i64_xor).set(final[i]!);
  negatedKey(c, (i) => c.get(final[i]!));
  // Clear the FIRST flag, advance to the next block.
  c.get(T1).i64(~FLAG_FIRST).emit(op.i64_and).set(T1);
  c.get(P_PTR).i32(BLOCK_BYTES).emit(op.i32_add).set(P_PTR);
  c.get(P_BLOCKS).i32(1).emit(op.i32_sub).emit(op.local_tee, P_BLOCKS).emit(op.br_if, 0);
  c.emit(op.end);

  c.i32(0).get(T0).store64(TWEAK_OFFSET);
  c.i32(0).get(T1).store64(TWEAK_OFFSET + 8);
  for (let i = 0; i < WORDS; i++) c.i32(0).i64(0n).get(NK + i).emit(i64Sub).store64(CHAIN_OFFSET + 8 * i);
  return c;
}

export interface SkeinEngine {
  memory: WebAssembly.Memory;
  /** Compress `blocks` (>= 1) blocks starting at byte `at` (default INPUT_OFFSET), adding `bytesPerBlock` to T0 before each. */
  compress(blocks: number, bytesPerBlock: number, at?: number): void;
}

let compiled: WebAssembly.Module | undefined;
const SLICE_BLOCKS = 512;

/** The module bytes (exported for tests and the benchmark). */
export function skeinWasmBytes(): Uint8Array<ArrayBuffer> {
  return encodeModule(MEMORY_PAGES, [{
    name: 'compress',
    params: [I32, I32, I32],
    locals: [[LOCALS_I64, I64]],
    body: buildCompress(),
  }]);
}

/** A fresh engine instance with its own memory (instances are cheap; the module is compiled once). */
export function createSkeinEngine(): SkeinEngine {
  compiled ??= new WebAssembly.Module(skeinWasmBytes());
  const instance = new WebAssembly.Instance(compiled, {});
  const exports = instance.exports as unknown as { memory: WebAssembly.Memory; compress(n: number, b: number, at: number): void };
  const compress = exports.compress;
  return {
    memory: exports.memory,
    compress(blocks, bytes, at = INPUT_OFFSET) {
      // At most 64 KiB per call: V8 first runs the function in its baseline tier (~8 MB/s)
      // and only switches to the optimized code between calls, so one 1 MiB call at the
      // start would cost ~130 ms. A call costs far less than hashing 64 KiB.
      for (; blocks > SLICE_BLOCKS; blocks -= SLICE_BLOCKS, at += SLICE_BLOCKS * BLOCK_BYTES) compress(SLICE_BLOCKS, bytes, at);
      compress(blocks, bytes, at);
    },
  };
}
