// Skein-1024 constants from the Skein v1.3 specification (the final version,
// the one FreeBSD's `skein1024` implements). Shared by the fast WebAssembly
// engine and the slow BigInt reference used to cross-check it.

/** Threefish-1024 MIX rotation constants R[d mod 8][j] (v1.3 values). */
export const ROTATIONS_1024: readonly (readonly number[])[] = [
  [24, 13, 8, 47, 8, 17, 22, 37],
  [38, 19, 10, 55, 49, 18, 23, 52],
  [33, 4, 51, 13, 34, 41, 59, 17],
  [5, 20, 48, 41, 47, 28, 16, 25],
  [41, 9, 37, 31, 12, 47, 44, 30],
  [16, 34, 56, 51, 4, 53, 42, 41],
  [31, 44, 47, 46, 19, 42, 44, 25],
  [9, 48, 35, 52, 23, 31, 37, 20],
];

/** Word permutation applied after each round of Threefish-1024. */
export const PERMUTATION_1024: readonly number[] = [0, 9, 2, 13, 6, 11, 4, 15, 10, 7, 12, 3, 14, 5, 8, 1];

/** Key schedule parity constant C240 (v1.3). */
export const KEY_PARITY = 0x1bd11bdaa9fc1a22n;

export const WORDS = 16;
export const ROUNDS = 80;
export const BLOCK_BYTES = 128;

/** UBI block types (tweak bits 120..125). */
export const TYPE_CFG = 4n;
export const TYPE_MSG = 48n;
export const TYPE_OUT = 63n;

/** Tweak word 1 flags. */
export const FLAG_FIRST = 1n << 62n;
export const FLAG_FINAL = 1n << 63n;

/** The 32-byte configuration string for Skein-1024 with a 1024-bit output, no tree hashing. */
export function configBlock(outputBits: number): Uint8Array {
  const block = new Uint8Array(BLOCK_BYTES);
  const view = new DataView(block.buffer);
  view.setUint32(0, 0x33414853, true); // "SHA3" schema identifier
  view.setUint16(4, 1, true); // version 1
  view.setBigUint64(8, BigInt(outputBits), true);
  // bytes 16..18: tree parameters, all zero = sequential hashing
  return block;
}
export const CONFIG_BYTES = 32;
