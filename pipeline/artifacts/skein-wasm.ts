// Generates, at first use, a WebAssembly module with Skein-1024's UBI
// compression: Threefish-1024 fully unrolled over native 64-bit words, with
// the word permutation done by renaming locals instead of moving data.
// JavaScript has no fast 64-bit integers; WebAssembly's i64 add/rotate/xor map
// to single machine instructions, which is what gets us near native speed.
//
// Shaped for V8's optimizing compiler (TurboFan; measured on x86-64, Node 20 /
// V8 11.3, where the speed of this function follows the size of its machine
// code, about 4 bytes an instruction, not its arithmetic):
// - The key schedule stays in locals, but NEGATED, and is subtracted: V8 turns
//   every `x + k` into `lea` (both operands in registers), while `x - nk` becomes
//   `sub`, whose second operand may stay in its stack slot. Key words are
//   constant through a block, so they live in stack slots and never take a register.
// - At most STATE_IN_LOCALS of the 16 state words are locals at any point; the
//   others wait in linear memory, and we choose which and when (planMovesOut).
//   Left to itself, V8's register allocator spilled about 1,330 times per block
//   into frame slots with 4-byte displacements; with our plan the moves go to the
//   chaining value's own 128 bytes (1-byte displacements; the chain is in locals
//   meanwhile) and V8 spills about 340 times: 3,616 instead of 3,947
//   instructions, 14.2 instead of 16.4 KB, 18% faster. 12 measured best (bytes
//   of code: 10: 14.7 K, 11: 14.4 K, 13: 15.3 K, 14: 16.2 K; storing each word
//   when its local is needed instead of right after its last MIX: 14.6 K).
// - The tweak is read from and written back to memory every block instead of
//   riding along in locals: two fewer values for V8 to keep across the block.
// - What did not pay (same-process alternating trials, medians): key words in
//   linear memory loaded where used, or in globals (V8 schedules loads early and
//   spills them; loads from linear memory never fold into `sub`): about half the
//   speed; loops of 8/16/40 rounds instead of the full unroll (the key schedule
//   then rotates through locals every iteration): -20/-10/0%; emitting the MIX
//   operations in another order (TurboFan reschedules: identical machine code);
//   swapping add/xor operands (up to 15% more code) or searching per-MIX operand
//   orders for the smallest code (1%); the loop counter and block pointer in memory.
// - No SIMD: WebAssembly SIMD has no 64-bit rotate and no per-lane shift counts,
//   and Threefish-1024's eight MIX operations of a round all rotate by different
//   amounts, so two lanes cost more instructions than two scalar MIXes.
import { Code, I32, I64, encodeModule, op } from './wasm-encoder.js';
import { BLOCK_BYTES, FLAG_FIRST, KEY_PARITY, PERMUTATION_1024, ROTATIONS_1024, ROUNDS, WORDS } from './skein-constants.js';

/** Memory layout of one engine instance. */
export const CHAIN_OFFSET = 0; // 16 words: the chaining value (spill room for state words during compress)
export const TWEAK_OFFSET = 128; // T0 (bytes processed), T1 (type and flags)
/** Two input regions, each preceded by room for one held-back block (see Skein1024.absorb). */
export const INPUT_BYTES = 1024 * 1024;
export const INPUT_OFFSET = 512; // region A
export const INPUT_B_OFFSET = INPUT_OFFSET + INPUT_BYTES + 512; // region B
const MEMORY_PAGES = Math.ceil((INPUT_B_OFFSET + INPUT_BYTES) / 65536);

/** How many state words may be locals at once (V8 has 12 general registers for wasm on x86-64; see above). */
const STATE_IN_LOCALS = 12;
/** Where a state word waits while it is not a local: the chaining value's bytes, which are in locals during compress. */
const SPILL_OFFSET = CHAIN_OFFSET;

// Local variable indexes: three params, then the working registers.
const P_BLOCKS = 0;
const P_BYTES = 1;
const P_PTR = 2; // where the blocks are; advanced block by block
const X = 3; // x0..x15
const NK = X + WORDS; // -k0..-k16 (k16 is the parity word)
const NT = NK + WORDS + 1; // -t0, -t1, -t2
const T0 = NT + 3; // t0, t1 themselves, for the block being compressed
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

/** Which locals take part in each MIX, in emission order: 80 rounds of 8 [a, b] pairs (the permutation renames). */
function mixOperands(): Array<[number, number]> {
  const steps: Array<[number, number]> = [];
  let names = Array.from({ length: WORDS }, (_, i) => X + i);
  for (let d = 0; d < ROUNDS; d++) {
    for (let j = 0; j < WORDS / 2; j++) steps.push([names[2 * j]!, names[2 * j + 1]!]);
    names = PERMUTATION_1024.map((p) => names[p]!);
  }
  return steps;
}

/**
 * Which words to move out of their locals, and when: Belady's rule (when a word has to come
 * back and STATE_IN_LOCALS are in use, the one needed again latest goes), each stored right after
 * the MIX that last wrote it rather than when its local is wanted. V8 places loads and stores in
 * program order as early as their inputs allow and arithmetic as late as possible; a store right
 * after a MIX keeps the next load from running ahead of the arithmetic (and its value from
 * waiting in a register V8 then spills), and ends the word's life in a register sooner.
 * Returns, per MIX step, the words to store after it.
 */
function planMovesOut(steps: ReadonlyArray<readonly [number, number]>): Map<number, number[]> {
  const inLocal = new Set<number>();
  const lastWritten = new Map<number, number>();
  const after = new Map<number, number[]>();
  const nextUse = (w: number, from: number): number => {
    let next = from;
    while (next < steps.length && !steps[next]!.includes(w)) next++;
    return next;
  };
  steps.forEach(([a, b], step) => {
    for (const w of [a, b]) {
      if (inLocal.has(w)) continue;
      if (inLocal.size >= STATE_IN_LOCALS) {
        let victim = -1;
        let farthest = -1;
        for (const v of inLocal) {
          const next = v === a || v === b ? -1 : nextUse(v, step);
          if (next > farthest) {
            farthest = next;
            victim = v;
          }
        }
        inLocal.delete(victim);
        const written = lastWritten.get(victim)!;
        after.set(written, [...(after.get(written) ?? []), victim]);
      }
      inLocal.add(w);
    }
    lastWritten.set(a, step);
    lastWritten.set(b, step);
  });
  return after;
}

/**
 * Where each state word (a local X..X+15) is while the rounds are emitted: in its local, or
 * waiting in memory (first in the message block, later in its spill slot) together with the key
 * injections it has missed, which are applied when it comes back.
 */
class StateWords {
  private readonly inMemory = new Set<number>();
  private readonly inMessage = new Set<number>();
  private readonly missed = new Map<number, Array<() => void>>();
  private readonly steps = mixOperands();
  private readonly movesOut = planMovesOut(this.steps);

  constructor(private readonly c: Code) {
    for (let i = 0; i < WORDS; i++) {
      this.inMemory.add(X + i);
      this.inMessage.add(X + i);
      this.missed.set(X + i, []);
    }
  }

  /** Apply the key injection `apply` emits (it works on the value on the stack) to word `w`, now or when it is back. */
  inject(w: number, apply: () => void): void {
    if (this.inMemory.has(w)) this.missed.get(w)!.push(apply);
    else {
      this.c.get(w);
      apply();
      this.c.set(w);
    }
  }

  /** Before MIX `step`: its two words into their locals. */
  before(step: number): void {
    for (const w of this.steps[step]!) if (this.inMemory.has(w)) this.load(w);
  }

  /** After MIX `step`: store the words the plan moves out here. */
  after(step: number): void {
    for (const w of this.movesOut.get(step) ?? []) {
      this.c.i32(0).get(w).store64(SPILL_OFFSET + 8 * (w - X));
      this.inMemory.add(w);
    }
  }

  /** Every word back in its local (end of the rounds). */
  all(): void {
    for (let i = 0; i < WORDS; i++) if (this.inMemory.has(X + i)) this.load(X + i);
  }

  private load(w: number): void {
    if (this.inMessage.delete(w)) this.c.get(P_PTR).load64(8 * (w - X));
    else this.c.i32(0).load64(SPILL_OFFSET + 8 * (w - X));
    for (const apply of this.missed.get(w)!) apply();
    this.missed.set(w, []);
    this.c.set(w);
    this.inMemory.delete(w);
  }
}

function buildCompress(): Code {
  const c = new Code();
  negatedKey(c, (i) => c.i32(0).load64(CHAIN_OFFSET + 8 * i));

  c.emit(op.loop, op.void_block);
  // T0 += bytes in this block (stored back at once), and the three negated tweak words
  c.i32(0).load64(TWEAK_OFFSET).get(P_BYTES).emit(op.i64_extend_i32_u, op.i64_add).set(T0);
  c.i32(0).get(T0).store64(TWEAK_OFFSET);
  c.i32(0).load64(TWEAK_OFFSET + 8).set(T1);
  c.i64(0n).get(T0).emit(i64Sub).set(NT);
  c.i64(0n).get(T1).emit(i64Sub).set(NT + 1);
  c.i64(0n).get(T0).get(T1).emit(op.i64_xor).emit(i64Sub).set(NT + 2);

  const state = new StateWords(c);
  // names[i]: which local holds logical word i (the permutation renames).
  let names = Array.from({ length: WORDS }, (_, i) => X + i);
  const inject = (s: number): void => {
    for (let i = 0; i < WORDS; i++) {
      state.inject(names[i]!, () => {
        c.get(NK + ((s + i) % (WORDS + 1))).emit(i64Sub);
        if (i === WORDS - 3) c.get(NT + (s % 3)).emit(i64Sub);
        if (i === WORDS - 2) c.get(NT + ((s + 1) % 3)).emit(i64Sub);
        if (i === WORDS - 1 && s !== 0) c.i64(BigInt(s)).emit(op.i64_add);
      });
    }
  };
  inject(0); // the message words are still in memory: applied as each is loaded
  let step = 0;
  for (let d = 0; d < ROUNDS; d++) {
    for (let j = 0; j < WORDS / 2; j++, step++) {
      const a = names[2 * j]!;
      const b = names[2 * j + 1]!;
      state.before(step);
      c.get(a).get(b).emit(op.i64_add).set(a);
      c.get(b).i64(BigInt(ROTATIONS_1024[d % 8]![j]!)).emit(op.i64_rotl).get(a).emit(op.i64_xor).set(b);
      state.after(step);
    }
    names = PERMUTATION_1024.map((p) => names[p]!);
    if (d % 4 === 3) inject((d + 1) / 4);
  }
  state.all();
  // New chaining value = E(K, T, M) ^ M, kept negated for the next block.
  const final = names;
  for (let i = 0; i < WORDS; i++) c.get(final[i]!).get(P_PTR).load64(8 * i).emit(op.i64_xor).set(final[i]!);
  negatedKey(c, (i) => c.get(final[i]!));
  // Clear the FIRST flag, advance to the next block.
  c.i32(0).i32(0).load64(TWEAK_OFFSET + 8).i64(~FLAG_FIRST).emit(op.i64_and).store64(TWEAK_OFFSET + 8);
  c.get(P_PTR).i32(BLOCK_BYTES).emit(op.i32_add).set(P_PTR);
  c.get(P_BLOCKS).i32(1).emit(op.i32_sub).emit(op.local_tee, P_BLOCKS).emit(op.br_if, 0);
  c.emit(op.end);

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
