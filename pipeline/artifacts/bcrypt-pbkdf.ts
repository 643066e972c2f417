// bcrypt_pbkdf, the KDF signify ("BK") and OpenSSH use to encrypt secret keys
// with a passphrase: PBKDF2-like iteration of a bcrypt-derived hash over
// SHA-512-collapsed password and salt, with the output bytes interleaved.
import { createHash } from 'node:crypto';
import { Blowfish, streamToWord } from './blowfish.js';

const HASH_BYTES = 32;
const MAGIC = Buffer.from('OxychromaticBlowfishSwatDynamite', 'ascii');

function sha512(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
}

function bcryptHash(sha2pass: Uint8Array, sha2salt: Uint8Array): Uint8Array {
  const bf = new Blowfish();
  bf.expandState(sha2salt, sha2pass);
  for (let i = 0; i < 64; i++) {
    bf.expandState(null, sha2salt);
    bf.expandState(null, sha2pass);
  }
  const words = new Uint32Array(HASH_BYTES / 4);
  const pos = { j: 0 };
  for (let i = 0; i < words.length; i++) words[i] = streamToWord(MAGIC, pos);
  for (let i = 0; i < 64; i++) bf.encryptWords(words);
  const out = new Uint8Array(HASH_BYTES);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setUint32(4 * i, w, true)); // bcrypt_pbkdf copies words out little-endian
  return out;
}

export function bcryptPbkdf(password: Uint8Array, salt: Uint8Array, rounds: number, keyLength: number): Uint8Array {
  if (rounds < 1 || password.length === 0 || salt.length === 0 || keyLength === 0 || keyLength > HASH_BYTES * HASH_BYTES) {
    throw new Error('bcrypt_pbkdf: invalid parameters');
  }
  const key = new Uint8Array(keyLength);
  const stride = Math.ceil(keyLength / HASH_BYTES);
  let amount = Math.ceil(keyLength / stride);
  const sha2pass = sha512(password);
  let remaining = keyLength;
  for (let count = 1; remaining > 0; count++) {
    const countBytes = new Uint8Array(4);
    new DataView(countBytes.buffer).setUint32(0, count, false);
    let tmp = bcryptHash(sha2pass, sha512(salt, countBytes));
    const out = Uint8Array.from(tmp);
    for (let i = 1; i < rounds; i++) {
      tmp = bcryptHash(sha2pass, sha512(tmp));
      for (let j = 0; j < out.length; j++) out[j]! ^= tmp[j]!;
    }
    // Interleave: byte i of this block goes to position i * stride + (count - 1).
    amount = Math.min(amount, remaining);
    let i = 0;
    for (; i < amount; i++) {
      const dest = i * stride + (count - 1);
      if (dest >= keyLength) break;
      key[dest] = out[i]!;
    }
    remaining -= i;
  }
  return key;
}
