import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Skein1024, skein1024Hex, skeinLine } from '../../pipeline/artifacts/skein1024.js';
import { skein1024Reference, threefish1024 } from '../../pipeline/artifacts/skein-reference.js';
import { INPUT_BYTES } from '../../pipeline/artifacts/skein-wasm.js';
import { skein1024File } from '../../pipeline/artifacts/skein-file.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

// Skein v1.3 specification, Appendix C (Skein-1024-1024): messages 0xFF, FF FE .. 80 (128 bytes), FF .. 00 (256 bytes).
const descending = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => 255 - i));
const SPEC_VECTORS: Array<[string, Buffer, string]> = [
  ['1 byte FF', descending(1),
    'e62c05802ea0152407cdd8787fda9e35703de862a4fbc119cff8590afe79250bccc8b3faf1bd2422ab5c0d263fb2f8afb3f796f048000381531b6f00d85161bc0fff4bef2486b1ebcd3773fabf50ad4ad5639af9040e3f29c6c931301bf79832e9da09857e831e82ef8b4691c235656515d437d2bda33bcec001c67ffde15ba8'],
  ['128 bytes FF..80', descending(128),
    '1f3e02c46fb80a3fcd2dfbbc7c173800b40c60c2354af551189ebf433c3d85f9ff1803e6d920493179ed7ae7fce69c3581a5a2f82d3e0c7a295574d0cd7d217c484d2f6313d59a7718ead07d0729c24851d7e7d2491b902d489194e6b7d369db0ab7aa106f0ee0a39a42efc54f18d93776080985f907574f995ec6a37153a578'],
  ['256 bytes FF..00', descending(256),
    '842a53c99c12b0cf80cf69491be5e2f7515de8733b6ea9422dfd676665b5fa42ffb3a9c48c217777950848cecdb48f640f81fb92bef6f88f7a85c1f7cd1446c9161c0afe8f25ae444f40d3680081c35aa43f640fd5fa3c3c030bcc06abac01d098bcc984ebd8322712921e00b1ba07d6d01f26907050255ef2c8e24f716c52a5'],
];

// Skein submission known-answer tests (skein_golden_kat), Skein-1024-1024.
const KAT_RANDOM = Buffer.from(
  'fbd17c26b61a82e12e125f0d459b96c91ab4837dff22b39b78439430cdfc5dc878bb393a1a5f79bef30995a85a12923339ba8ab7d8fc6dc5fec6f4ed22c122bb'
  + 'e7eb61981892966de5cef576f71fc7a80d14dab2d0c03940b95b9fb3a727c66a6e1ff0dc311b9aa21a3054484802154c1826c2a27a0914152aeb76f1168d4410', 'hex');
const KAT_VECTORS: Array<[string, Buffer, string]> = [
  ['empty', Buffer.alloc(0),
    '0fff9563bb3279289227ac77d319b6fff8d7e9f09da1247b72a0a265cd6d2a62645ad547ed8193db48cff847c06494a03f55666d3b47eb4c20456c9373c86297d630d5578ebd34cb40991578f9f52b18003efa35d3da6553ff35db91b81ab890bec1b189b7f52cb2a783ebb7d823d725b0b4a71f6824e88f68f982eefc6d19c6'],
  ['1 byte FB', KAT_RANDOM.subarray(0, 1),
    '6426bdc57b2771a6ef1b0dd39f8096a9a07554565743ac3de851d28258fcff229993e11c4e6bebc8b6ecb0ad1b140276081aa390ec38759603361194278274734770671b79f076771e2cfdaaf5adc9b10cbae43d8e6cd2b1c1f5d6c82dc9661800ddc476f25865b8748253173187d81da971c027d91d32fb390301c2110d2db2'],
  ['48 random bytes', KAT_RANDOM.subarray(0, 48),
    '31105e1ef042c30b95b16e0f6e6a1a19172bb7d54a0597dd0c711194888efe1dbce82d47416df9577ca387219f06e45cd10964ff36f6711edbbea0e9595b0f66f72b755d70a46857e0aec98561a743d49370d8e572e212811273125f66cc30bf117d3221894c48012bf6e2219de91e064b01523517420a1e00f71c4cc04bab62'],
  ['128 random bytes', KAT_RANDOM,
    '96ca81f586c825d0360aef5acaec49ad55289e1797072eee198b64f349ce65b6e6ed804fe38f05135fe769cc56240ddda5098f620865ce4a4278c77fa2ec6bc31c0f354ca78c7ca81665bfcc5dc54258c3b8310ed421d9157f36c093814d9b25103d83e0ddd89c52d0050e13a64c6140e6388431961685734b1f138fe2243086'],
];

/** Deterministic pseudo-random bytes (SHA-512 in counter mode) so failures reproduce. */
function bytes(n: number, seed = 'skein'): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0, block = 0; i < n; block++) {
    const h = createHash('sha512').update(`${seed}:${block}`).digest();
    i += h.copy(out, i);
  }
  return out;
}

test('Threefish-1024 of the reference matches the specification test vector', () => {
  const words = (hex: string) => Array.from({ length: 16 }, (_, i) => Buffer.from(hex, 'hex').readBigUInt64LE(8 * i));
  const key = Buffer.from(Array.from({ length: 128 }, (_, i) => 0x10 + i)).toString('hex');
  const plain = descending(128).toString('hex');
  const tweak = Buffer.from(Array.from({ length: 16 }, (_, i) => i));
  const cipher = threefish1024(words(key), [tweak.readBigUInt64LE(0), tweak.readBigUInt64LE(8)], words(plain));
  const out = Buffer.alloc(128);
  cipher.forEach((w, i) => out.writeBigUInt64LE(w, 8 * i));
  assert.equal(out.toString('hex'),
    'a6654ddbd73cc3b05dd777105aa849bce49372eaaffc5568d254771bab85531c94f780e7ffaae430d5d8af8c70eebbe1760f3b42b737a89cb363490d670314bd'
    + '8aa41ee63c2e1f45fbd477922f8360b388d6125ea6c7af0ad7056d01796e90c83313f4150a5716b30ed5f569288ae974ce2b4347926fce57de44512177dd7cde');
});

test('Skein-1024-1024 matches the specification and KAT vectors (fast engine and reference)', () => {
  for (const [name, message, digest] of [...SPEC_VECTORS, ...KAT_VECTORS]) {
    assert.equal(skein1024Hex(message), digest, `fast engine: ${name}`);
    assert.equal(Buffer.from(skein1024Reference(message)).toString('hex'), digest, `reference: ${name}`);
  }
});

test('every length around the 128-byte block, the old 64 KiB buffer and the 1 MiB input region matches the reference', () => {
  for (const n of [0, 1, 127, 128, 129, 255, 256, 257, 383, 384, 385, 65535, 65536, 65537, 131073, INPUT_BYTES + 129]) {
    const message = bytes(n, `len${n}`);
    assert.equal(skein1024Hex(message), Buffer.from(skein1024Reference(message)).toString('hex'), `length ${n}`);
  }
});

test('streaming in odd chunk sizes equals one shot over several MiB', () => {
  const message = bytes(5 * 1024 * 1024 + 77, 'big');
  const oneShot = skein1024Hex(message);
  for (const sizes of [[1, 7, 127, 129, 4093], [65536], [65537, 3], [128], [1 << 20, 1]]) {
    const skein = new Skein1024();
    let offset = 0;
    for (let i = 0; offset < message.length; i++) {
      const size = sizes[i % sizes.length]!;
      skein.update(message.subarray(offset, offset + size));
      offset += size;
    }
    assert.equal(skein.hexDigest(), oneShot, `chunks ${sizes.join(',')}`);
  }
  // Block-boundary split points within a larger stream.
  for (const split of [0, 1, 127, 128, 129, 65535, 65536, 65537]) {
    const skein = new Skein1024().update(message.subarray(0, split)).update(message.subarray(split, 300000));
    assert.equal(skein.hexDigest(), skein1024Hex(message.subarray(0, 300000)), `split at ${split}`);
  }
});

test('strings are hashed as UTF-8 and a finished hash refuses more input', () => {
  assert.equal(skein1024Hex('-\n'), skein1024Hex(Buffer.from('-\n')));
  assert.equal(skeinLine('ab'), 'ab\n');
  const skein = new Skein1024().update('x');
  skein.digest();
  assert.throws(() => skein.update('y'), /after digest/);
});

test('pot-image hash prints skein1024 -q lines for files and stdin', async () => {
  const dir = tempDir();
  const a = join(dir, 'a.bin');
  const b = join(dir, 'b.bin');
  writeFileSync(a, descending(256));
  writeFileSync(b, Buffer.alloc(0));
  const files = await runCli(['hash', a, b]);
  assert.equal(files.code, 0, files.stderr);
  assert.equal(files.stdout, `${SPEC_VECTORS[2]![2]}\n${KAT_VECTORS[0]![2]}\n`);
  const stdin = await runCli(['hash', '-'], { input: '\xff' });
  assert.equal(stdin.code, 0, stdin.stderr);
  // '\xff' as a JS string is written as UTF-8 (c3 bf)
  assert.equal(stdin.stdout, skeinLine(skein1024Hex(Buffer.from('\xff', 'utf8'))));
});

test('pot-image hash names a missing file in one line, still hashes the others, exits 1', async () => {
  const dir = tempDir();
  const a = join(dir, 'a.bin');
  writeFileSync(a, descending(1));
  const result = await runCli(['hash', join(dir, 'nope'), a]);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, `${SPEC_VECTORS[0]![2]}\n`);
  assert.match(result.stderr, /nope: no such file/);
  assert.equal(result.stderr.trim().split('\n').length, 1);
  const none = await runCli(['hash']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /at least one FILE/);
});

test('hashers are independent: interleaved updates give each its own digest', () => {
  const a = bytes(200_000, 'a');
  const b = bytes(150_001, 'b');
  const ha = new Skein1024();
  const hb = new Skein1024();
  for (let i = 0; i < 200_000; i += 70_000) {
    ha.update(a.subarray(i, i + 70_000));
    hb.update(b.subarray(i, i + 70_000));
  }
  assert.equal(ha.hexDigest(), skein1024Hex(a));
  assert.equal(hb.hexDigest(), skein1024Hex(b));
});

test('pot-image hash of a directory says so in one line', async () => {
  const dir = tempDir();
  const r = await runCli(['hash', dir]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /is a directory/);
  assert.equal(r.stdout, '');
});

/** A reader over `data` that hands out at most `sizes[i]` bytes per call (short reads, as pipes give). */
function reader(data: Uint8Array, sizes: number[]): (into: Uint8Array) => Promise<number> {
  let offset = 0;
  let call = 0;
  return async (into) => {
    const n = Math.min(into.length, data.length - offset, sizes[call++ % sizes.length]!);
    into.set(data.subarray(offset, offset + n));
    offset += n;
    return n;
  };
}

test('absorb (reading straight into the engine, two regions in turn) equals update() at every region boundary', async () => {
  const data = bytes(3 * INPUT_BYTES + 300, 'absorb');
  for (const n of [0, 1, 128, 129, INPUT_BYTES - 1, INPUT_BYTES, INPUT_BYTES + 1, INPUT_BYTES + 128, 2 * INPUT_BYTES, 2 * INPUT_BYTES + 129, 3 * INPUT_BYTES + 300]) {
    const message = data.subarray(0, n);
    const expected = skein1024Hex(message);
    const whole = new Skein1024();
    assert.equal(await whole.absorb(reader(message, [Number.MAX_SAFE_INTEGER])), n);
    assert.equal(whole.hexDigest(), expected, `absorb of ${n} bytes`);
    const short = new Skein1024();
    await short.absorb(reader(message, [1, 4093, 65536, 128, 300000]));
    assert.equal(short.hexDigest(), expected, `absorb of ${n} bytes in short reads`);
  }
});

test('update, absorb and update again continue one message', async () => {
  const data = bytes(2 * INPUT_BYTES + 1000, 'mixed');
  for (const [before, after] of [[0, 0], [1, 1], [128, 0], [200, 129], [INPUT_BYTES, 5], [INPUT_BYTES - 3, INPUT_BYTES]]) {
    const middle = data.length - before - after;
    const skein = new Skein1024().update(data.subarray(0, before));
    assert.equal(await skein.absorb(reader(data.subarray(before, before + middle), [777777])), middle);
    skein.update(data.subarray(before + middle));
    assert.equal(skein.hexDigest(), skein1024Hex(data), `update ${before}, absorb ${middle}, update ${after}`);
  }
});

test('a failing read rejects absorb, and a file is hashed as skein1024 -q would', async () => {
  await assert.rejects(new Skein1024().absorb(async () => { throw new Error('disk gone'); }), /disk gone/);
  const dir = tempDir();
  const file = join(dir, 'f.bin');
  const data = bytes(INPUT_BYTES + 4321, 'file');
  writeFileSync(file, data);
  assert.equal(await skein1024File(file), skein1024Hex(data));
  await assert.rejects(skein1024File(join(dir, 'missing')), /ENOENT/);
});
