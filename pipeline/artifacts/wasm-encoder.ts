// Just enough of the WebAssembly binary format to emit one module with one
// memory and a few functions over i32/i64. We generate the Skein engine
// ourselves instead of shipping a compiled blob or pulling in a toolchain.

export const I32 = 0x7f;
export const I64 = 0x7e;

/** Opcodes we use (WebAssembly core spec 1.0). */
export const op = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  br_if: 0x0d,
  local_get: 0x20,
  local_set: 0x21,
  local_tee: 0x22,
  i64_load: 0x29,
  i64_store: 0x37,
  i32_const: 0x41,
  i64_const: 0x42,
  i32_add: 0x6a,
  i32_sub: 0x6b,
  i64_add: 0x7c,
  i64_and: 0x83,
  i64_xor: 0x85,
  i64_rotl: 0x89,
  i64_extend_i32_u: 0xad,
  void_block: 0x40,
} as const;

export function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

export function sleb(value: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asIntN(64, value);
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n; // arithmetic shift on BigInt
    const signBit = (byte & 0x40) !== 0;
    if ((v === 0n && !signBit) || (v === -1n && signBit)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** Instruction stream of one function body. */
export class Code {
  readonly bytes: number[] = [];
  emit(...b: number[]): this { for (const x of b) this.bytes.push(x); return this; }
  get(local: number): this { return this.emit(op.local_get, ...uleb(local)); }
  set(local: number): this { return this.emit(op.local_set, ...uleb(local)); }
  i32(value: number): this { return this.emit(op.i32_const, ...sleb(BigInt(value | 0))); }
  i64(value: bigint): this { return this.emit(op.i64_const, ...sleb(value)); }
  /** i64.load with natural alignment (2^3) and a constant offset. */
  load64(offset: number): this { return this.emit(op.i64_load, 3, ...uleb(offset)); }
  store64(offset: number): this { return this.emit(op.i64_store, 3, ...uleb(offset)); }
}

export interface FunctionDef {
  name: string;
  params: number[];
  /** Extra locals after the params, as (count, type) runs. */
  locals: Array<[number, number]>;
  body: Code;
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function vector(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(text: string): number[] {
  const b = [...Buffer.from(text, 'utf8')];
  return [...uleb(b.length), ...b];
}

/** A module exporting `memory` (pages of 64 KiB) and each function, all of type (params) -> (). */
export function encodeModule(memoryPages: number, functions: FunctionDef[]): Uint8Array<ArrayBuffer> {
  const types = functions.map((f) => [0x60, ...vector(f.params.map((p) => [p])), 0]);
  const funcIndexes = functions.map((_, i) => uleb(i));
  const memory = [1, 0x00, ...uleb(memoryPages)];
  const exports = [
    [...name('memory'), 0x02, 0],
    ...functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]),
  ];
  const bodies = functions.map((f) => {
    const locals = vector(f.locals.map(([count, type]) => [...uleb(count), type]));
    const body = [...locals, ...f.body.bytes, op.end];
    return [...uleb(body.length), ...body];
  });
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector(types)),
    ...section(3, vector(funcIndexes)),
    ...section(5, memory),
    ...section(7, vector(exports)),
    ...section(10, vector(bodies)),
  ];
  return Uint8Array.from(bytes);
}
