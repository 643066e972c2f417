// Blowfish as bcrypt_pbkdf uses it: the key-expansion primitives (expandstate,
// expand0state) and ECB encryption of 64-bit blocks. Blowfish's initial P-array
// and S-boxes are the hexadecimal digits of pi's fractional part, so instead of
// a 1042-word table we compute those digits once, on first use.

const P_WORDS = 18;
const S_WORDS = 4 * 256;
const INIT_WORDS = P_WORDS + S_WORDS;

let initial: Uint32Array | undefined;

/** The first `words` 32-bit words of pi's fractional part (Machin's formula in BigInt fixed point). */
export function piFractionWords(words: number): Uint32Array {
  const bits = BigInt(words * 32 + 64); // 64 guard bits absorb truncation error
  const one = 1n << bits;
  const arctanInverse = (x: bigint): bigint => {
    const x2 = x * x;
    let power = one / x;
    let sum = power;
    let n = 1n;
    let sign = -1n;
    while (power !== 0n) {
      power /= x2;
      n += 2n;
      sum += sign * (power / n);
      sign = -sign;
    }
    return sum;
  };
  const pi = 4n * (4n * arctanInverse(5n) - arctanInverse(239n));
  const fraction = (pi - 3n * one) >> 64n;
  const out = new Uint32Array(words);
  for (let i = 0; i < words; i++) {
    out[i] = Number((fraction >> BigInt((words - 1 - i) * 32)) & 0xffffffffn);
  }
  return out;
}

function initialState(): Uint32Array {
  initial ??= piFractionWords(INIT_WORDS);
  return initial;
}

/** Read 4 bytes big-endian from `data`, cycling; `pos` is advanced in place. */
export function streamToWord(data: Uint8Array, pos: { j: number }): number {
  let word = 0;
  for (let i = 0; i < 4; i++) {
    word = ((word << 8) | data[pos.j]!) >>> 0;
    pos.j = (pos.j + 1) % data.length;
  }
  return word;
}

export class Blowfish {
  /** P-array (18 words) then the four S-boxes (256 words each). */
  private readonly state = Uint32Array.from(initialState());
  /** Output of the last encipher(): left, right. */
  private l = 0;
  private r = 0;

  private encipher(left: number, right: number): void {
    const s = this.state;
    let xl = (left ^ s[0]!) >>> 0;
    let xr = right >>> 0;
    for (let i = 1; i <= 16; i += 2) {
      xr ^= (((s[P_WORDS + (xl >>> 24)]! + s[P_WORDS + 256 + ((xl >>> 16) & 0xff)]!) ^
        s[P_WORDS + 512 + ((xl >>> 8) & 0xff)]!) + s[P_WORDS + 768 + (xl & 0xff)]!) ^ s[i]!;
      xr >>>= 0;
      xl ^= (((s[P_WORDS + (xr >>> 24)]! + s[P_WORDS + 256 + ((xr >>> 16) & 0xff)]!) ^
        s[P_WORDS + 512 + ((xr >>> 8) & 0xff)]!) + s[P_WORDS + 768 + (xr & 0xff)]!) ^ s[i + 1]!;
      xl >>>= 0;
    }
    this.l = (xr ^ s[17]!) >>> 0;
    this.r = xl;
  }

  /**
   * Blowfish_expandstate: key into P, then refill P and S by encrypting, with the salt
   * (`data`) mixed in; `data` null is Blowfish_expand0state (no salt).
   */
  expandState(data: Uint8Array | null, key: Uint8Array): void {
    const s = this.state;
    const keyPos = { j: 0 };
    for (let i = 0; i < P_WORDS; i++) s[i] = (s[i]! ^ streamToWord(key, keyPos)) >>> 0;
    const dataPos = { j: 0 };
    let l = 0;
    let r = 0;
    for (let i = 0; i < INIT_WORDS; i += 2) {
      if (data) {
        l ^= streamToWord(data, dataPos);
        r ^= streamToWord(data, dataPos);
      }
      this.encipher(l, r);
      l = this.l;
      r = this.r;
      s[i] = l;
      s[i + 1] = r;
    }
  }

  /** blf_enc: encrypt consecutive (left, right) word pairs in place. */
  encryptWords(words: Uint32Array): void {
    for (let i = 0; i < words.length; i += 2) {
      this.encipher(words[i]!, words[i + 1]!);
      words[i] = this.l;
      words[i + 1] = this.r;
    }
  }
}
