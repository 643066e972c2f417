// OpenBSD signify's key and signature files, with Ed25519 from node:crypto.
// Every file is two lines: `untrusted comment: ...` and base64 of a packed
// struct that starts with the algorithm "Ed":
//   public key  Ed | keynum(8) | public key(32)                                   42 bytes
//   secret key  Ed | BK | rounds(4, BE) | salt(16) | checksum(8) | keynum(8) | key(64)  104 bytes
//   signature   Ed | keynum(8) | signature(64)                                    74 bytes
// The secret key is seed(32)||public(32), XORed with bcrypt_pbkdf(passphrase,
// salt, rounds, 64) (rounds 0: no passphrase, XOR with zeros); the checksum is
// the first 8 bytes of SHA-512 of the plain key, which is how a wrong
// passphrase is detected.
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign as edSign, timingSafeEqual, verify as edVerify } from 'node:crypto';
import { link, lstat, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError, UserError } from '../errors.js';
import { bcryptPbkdf } from './bcrypt-pbkdf.js';

export const COMMENT_HEADER = 'untrusted comment: ';
export const DEFAULT_KDF_ROUNDS = 42;
const PKALG = 'Ed';
const KDFALG = 'BK';
const KEYNUM_BYTES = 8;
const PUBLIC_FILE_BYTES = 2 + KEYNUM_BYTES + 32;
const SECRET_FILE_BYTES = 2 + 2 + 4 + 16 + 8 + KEYNUM_BYTES + 64;
const SIGNATURE_FILE_BYTES = 2 + KEYNUM_BYTES + 64;
/** signify refuses messages over 1 GiB; so do we. */
const MAX_MESSAGE_BYTES = 1 << 30;

type Kind = 'public key' | 'secret key' | 'signature';
const SIZES: Record<Kind, number> = {
  'public key': PUBLIC_FILE_BYTES,
  'secret key': SECRET_FILE_BYTES,
  signature: SIGNATURE_FILE_BYTES,
};

export interface PublicKey { comment: string; keynum: Uint8Array; key: Uint8Array }
export interface EncryptedSecretKey {
  comment: string; rounds: number; salt: Uint8Array; checksum: Uint8Array; keynum: Uint8Array; encrypted: Uint8Array;
}
export interface SecretKey { keynum: Uint8Array; /** seed(32) || public key(32) */ key: Uint8Array }
export interface Signature { comment: string; keynum: Uint8Array; signature: Uint8Array }

// ---- file text ------------------------------------------------------------

export function encodeSignifyFile(comment: string, data: Uint8Array): string {
  if (comment.includes('\n')) throw new UserError('a signify comment must be one line');
  return `${COMMENT_HEADER}${comment}\n${Buffer.from(data).toString('base64')}\n`;
}

/** Parse a signify file; `name` (usually the path) appears in errors. */
export function decodeSignifyFile(text: string, name: string, kind: Kind): { comment: string; data: Buffer } {
  const newline = text.indexOf('\n');
  if (newline <= COMMENT_HEADER.length || !text.startsWith(COMMENT_HEADER)) {
    throw new UserError(`${name} is not a signify ${kind}: it must start with '${COMMENT_HEADER.trim()}'`);
  }
  const comment = text.slice(COMMENT_HEADER.length, newline);
  const end = text.indexOf('\n', newline + 1);
  const b64 = text.slice(newline + 1, end === -1 ? undefined : end).trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) {
    throw new UserError(`${name} is corrupt: its second line is not valid base64`);
  }
  const data = Buffer.from(b64, 'base64');
  if (data.length !== SIZES[kind]) {
    const actual = (Object.keys(SIZES) as Kind[]).find((k) => SIZES[k] === data.length);
    if (actual === 'public key' && kind === 'secret key') {
      throw new UserError(`${name} is a signify public key; signing needs the secret key (the .sec file)`);
    }
    if (actual) throw new UserError(`${name} is a signify ${actual}, not a ${kind}`);
    throw new UserError(`${name} is corrupt: ${data.length} bytes of key data where a signify ${kind} has ${SIZES[kind]}`);
  }
  if (data.subarray(0, 2).toString('latin1') !== PKALG) {
    throw new UserError(`${name} uses an unsupported algorithm (only signify Ed25519 'Ed' is supported)`);
  }
  return { comment, data };
}

export function parsePublicKey(text: string, name: string): PublicKey {
  const { comment, data } = decodeSignifyFile(text, name, 'public key');
  return { comment, keynum: data.subarray(2, 10), key: data.subarray(10, 42) };
}

export function formatPublicKey(key: PublicKey): string {
  return encodeSignifyFile(key.comment, Buffer.concat([Buffer.from(PKALG), key.keynum, key.key]));
}

export function parseSecretKey(text: string, name: string): EncryptedSecretKey {
  const { comment, data } = decodeSignifyFile(text, name, 'secret key');
  if (data.subarray(2, 4).toString('latin1') !== KDFALG) {
    throw new UserError(`${name} uses an unsupported key derivation (only bcrypt_pbkdf 'BK' is supported)`);
  }
  return {
    comment,
    rounds: data.readUInt32BE(4),
    salt: data.subarray(8, 24),
    checksum: data.subarray(24, 32),
    keynum: data.subarray(32, 40),
    encrypted: data.subarray(40, 104),
  };
}

export function formatSecretKey(key: EncryptedSecretKey): string {
  const rounds = Buffer.alloc(4);
  rounds.writeUInt32BE(key.rounds);
  return encodeSignifyFile(key.comment, Buffer.concat([
    Buffer.from(PKALG), Buffer.from(KDFALG), rounds, key.salt, key.checksum, key.keynum, key.encrypted,
  ]));
}

export function parseSignature(text: string, name: string): Signature {
  const { comment, data } = decodeSignifyFile(text, name, 'signature');
  return { comment, keynum: data.subarray(2, 10), signature: data.subarray(10, 74) };
}

export function formatSignature(sig: Signature): string {
  return encodeSignifyFile(sig.comment, Buffer.concat([Buffer.from(PKALG), sig.keynum, sig.signature]));
}

// ---- Ed25519 (node:crypto, raw keys wrapped in their fixed DER prefixes) ----

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function privateKeyObject(seed: Uint8Array) {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export function publicKeyFromSeed(seed: Uint8Array): Uint8Array {
  const der = createPublicKey(privateKeyObject(seed)).export({ format: 'der', type: 'spki' });
  return der.subarray(SPKI_ED25519_PREFIX.length);
}

export function ed25519Sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  return edSign(null, message, privateKeyObject(secretKey.subarray(0, 32)));
}

export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: 'der', type: 'spki' });
  return edVerify(null, message, key, signature);
}

// ---- keys -------------------------------------------------------------------

function checksumOf(secretKey: Uint8Array): Uint8Array {
  return createHash('sha512').update(secretKey).digest().subarray(0, 8);
}

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  return Uint8Array.from(a, (v, i) => v ^ b[i]!);
}

export function generateSecretKey(): SecretKey {
  const seed = randomBytes(32);
  return { keynum: randomBytes(KEYNUM_BYTES), key: Buffer.concat([seed, publicKeyFromSeed(seed)]) };
}

/** Encrypt for storage; passphrase null = no passphrase (rounds 0, as `signify -G -n`). */
export function encryptSecretKey(secret: SecretKey, passphrase: string | null, comment: string, rounds = DEFAULT_KDF_ROUNDS): EncryptedSecretKey {
  const salt = randomBytes(16);
  const effectiveRounds = passphrase === null ? 0 : rounds;
  const mask = effectiveRounds === 0 ? new Uint8Array(64) : bcryptPbkdf(Buffer.from(passphrase!, 'utf8'), salt, effectiveRounds, 64);
  return {
    comment, rounds: effectiveRounds, salt, checksum: checksumOf(secret.key), keynum: secret.keynum, encrypted: xor(secret.key, mask),
  };
}

/** Decrypt; throws a one-line UserError for a wrong passphrase or a damaged key. */
export function decryptSecretKey(enc: EncryptedSecretKey, passphrase: string | null, name: string): SecretKey {
  let mask: Uint8Array = new Uint8Array(64);
  if (enc.rounds > 0) {
    if (passphrase === null || passphrase === '') throw new UserError(`${name} is passphrase-protected and no passphrase was given`);
    mask = bcryptPbkdf(Buffer.from(passphrase, 'utf8'), enc.salt, enc.rounds, 64);
  }
  const key = xor(enc.encrypted, mask);
  if (!timingSafeEqual(checksumOf(key), enc.checksum)) {
    throw new UserError(enc.rounds > 0
      ? `incorrect passphrase for ${name}`
      : `${name} is corrupt: its checksum does not match the key`);
  }
  if (!Buffer.from(publicKeyFromSeed(key.subarray(0, 32))).equals(key.subarray(32))) {
    throw new UserError(`${name} is corrupt: its public half does not match its seed`);
  }
  return { keynum: enc.keynum, key };
}

export function publicKeyOf(secret: SecretKey, comment: string): PublicKey {
  return { comment, keynum: secret.keynum, key: secret.key.subarray(32) };
}

// ---- files ------------------------------------------------------------------

async function readText(path: string, what: string): Promise<string> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new UserError(`${what} ${path} is not a file`);
    if (info.size > 4096) throw new UserError(`${path} is not a signify ${what}: it is ${info.size} bytes long`);
    return await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof UserError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? String(error)}`);
  }
}

export async function readPublicKeyFile(path: string): Promise<PublicKey> {
  return parsePublicKey(await readText(path, 'public key'), path);
}

export async function readSecretKeyFile(path: string): Promise<EncryptedSecretKey> {
  return parseSecretKey(await readText(path, 'secret key'), path);
}

export async function readSignatureFile(path: string): Promise<Signature> {
  return parseSignature(await readText(path, 'signature'), path);
}

/**
 * Write via a temporary file and rename, so a failure never leaves a half-written file.
 * `createOnly`: link() instead of rename(), which refuses an existing file atomically
 * (EEXIST): a key file is never replaced, however its path is spelled.
 */
export async function writeFileAtomic(path: string, content: string, mode = 0o644, options: { createOnly?: boolean } = {}): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(tmp, content, { mode, flag: 'wx' });
    if (options.createOnly) await link(tmp, path);
    else await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Whether two paths name the same file: the same inode when it exists, else the same folder and name. */
export async function sameFile(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a).catch(() => null), stat(b).catch(() => null)]);
  if (sa && sb) return sa.dev === sb.dev && sa.ino === sb.ino;
  const where = async (p: string) => join(await realpath(dirname(resolve(p))).catch(() => dirname(resolve(p))), basename(p));
  return (await where(a)) === (await where(b));
}

/** The comment signify writes into a signature made with `secretKeyPath`. */
export function signatureComment(secretKeyPath: string, secretKeyComment: string): string {
  const name = basename(secretKeyPath);
  if (name.length > 4 && name.endsWith('.sec')) return `verify with ${name.slice(0, -4)}.pub`;
  return `signature from ${secretKeyComment}`;
}

/** Sign bytes with a decrypted key into a signature-file text. */
export function signBytes(secret: SecretKey, message: Uint8Array, comment: string): string {
  return formatSignature({ comment, keynum: secret.keynum, signature: ed25519Sign(secret.key, message) });
}

/** A message to sign or check, refused (exit 2) over signify's own 1 GiB limit: what we sign, signify can verify. */
export async function readMessage(path: string): Promise<Buffer> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new UserError(`${path} is not a file`);
    if (info.size > MAX_MESSAGE_BYTES) {
      throw new InputError(`${path} is ${info.size} bytes, over signify's limit of 1 GiB (signify -V refuses it: "msg too large"); sign its digest instead (the image's .xz.skein)`);
    }
    return await readFile(path);
  } catch (error) {
    if (error instanceof UserError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? String(error)}`);
  }
}

export interface SignOptions {
  /** Passphrase for a protected key; resolved by the caller (env/TTY). */
  passphrase?: string | null;
  /** Default: FILE.sig */
  sigFile?: string;
}

/** `signify -S -s KEY -m FILE`: writes FILE.sig (atomically) and returns its path. */
export async function signFile(secretKeyFile: string, file: string, options: SignOptions = {}): Promise<string> {
  const enc = await readSecretKeyFile(secretKeyFile);
  const secret = decryptSecretKey(enc, options.passphrase ?? null, secretKeyFile);
  const message = await readMessage(file);
  const sigFile = options.sigFile ?? `${file}.sig`;
  await writeFileAtomic(sigFile, signBytes(secret, message, signatureComment(secretKeyFile, enc.comment)));
  return sigFile;
}

/** Check a signature over `message`; throws a one-line UserError naming what does not match. */
export function verifySignature(publicKey: PublicKey, message: Uint8Array, sig: Signature, names: { key: string; sig: string }): void {
  if (!Buffer.from(publicKey.keynum).equals(sig.keynum)) {
    throw new UserError(`signature ${names.sig} was made by key ${Buffer.from(sig.keynum).toString('hex')}, `
      + `but ${names.key} is key ${Buffer.from(publicKey.keynum).toString('hex')}: checked against the wrong key`);
  }
  if (!ed25519Verify(publicKey.key, message, sig.signature)) {
    throw new UserError(`signature ${names.sig} does not match ${names.key}: the signed file was changed or the signature is forged`);
  }
}

/** `signify -V -p KEY -x SIG -m FILE`. */
export async function verifySignatureFile(publicKeyFile: string, file: string, sigFile = `${file}.sig`): Promise<void> {
  const publicKey = await readPublicKeyFile(publicKeyFile);
  const sig = await readSignatureFile(sigFile);
  const message = await readMessage(file);
  verifySignature(publicKey, message, sig, { key: publicKeyFile, sig: sigFile });
}

export interface KeygenOptions {
  passphrase: string | null;
  /** Default "signify", giving signify's own "signify public key" / "signify secret key". */
  comment?: string;
  rounds?: number;
}

/** `signify -G -p PUB -s SEC [-n]`: refuses to overwrite either file, even when a race creates one meanwhile. */
export async function generateKeyFiles(publicFile: string, secretFile: string, options: KeygenOptions): Promise<PublicKey> {
  if (await sameFile(publicFile, secretFile)) {
    throw new InputError(`--public ${publicFile} and --secret ${secretFile} name the same file; give two different files`);
  }
  for (const path of [secretFile, publicFile]) {
    const exists = await lstat(path).then(() => true, () => false);
    if (exists) throw new UserError(`${path} already exists; remove it or choose another name (keys are never overwritten)`);
  }
  const comment = options.comment ?? 'signify';
  const secret = generateSecretKey();
  const enc = encryptSecretKey(secret, options.passphrase, `${comment} secret key`, options.rounds);
  const publicKey = publicKeyOf(secret, `${comment} public key`);
  const exists = (path: string) => new UserError(`${path} already exists; remove it or choose another name (keys are never overwritten)`);
  try {
    await writeFileAtomic(secretFile, formatSecretKey(enc), 0o600, { createOnly: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw exists(secretFile);
    throw error;
  }
  try {
    await writeFileAtomic(publicFile, formatPublicKey(publicKey), 0o644, { createOnly: true });
  } catch (error) {
    // Only the secret key made just now is removed: it was never handed out.
    await rm(secretFile, { force: true });
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw exists(publicFile);
    throw error;
  }
  return publicKey;
}
