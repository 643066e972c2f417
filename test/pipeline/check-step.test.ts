// check: never trust pot export's exit code; every file must exist, be
// non-empty and well-formed, and the .skein must be the digest of .xz + .meta.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { skein1024Hex } from '../../pipeline/artifacts/skein1024.js';
import { bringHome } from '../../pipeline/builder/bring-home.js';
import { LocalHost } from '../../pipeline/builder/local-host.js';
import { UserError } from '../../pipeline/errors.js';
import { exportFiles } from '../../pipeline/pot/export.js';
import { validMeta, validSkeinFile } from '../../pipeline/steps/check-step.js';
import { tempDir } from '../helpers/tmp.js';

/** Bring an export folder home into a fresh one (both on this machine). */
function checkExport(dir: string, pot: string, tag: string) {
  return bringHome(new LocalHost(), exportFiles(dir, pot, tag), exportFiles(tempDir(), pot, tag));
}

function exportDir(xz = 'xz bytes', meta = '-\n', skein?: string): string {
  const dir = tempDir();
  const base = join(dir, 'p_1.0.0.xz');
  if (xz !== '') writeFileSync(base, xz);
  if (meta !== '') writeFileSync(`${base}.meta`, meta);
  writeFileSync(`${base}.skein`, skein ?? `${skein1024Hex(Buffer.concat([Buffer.from(xz), Buffer.from(meta)]))}\n`);
  return dir;
}

test('validMeta: "-" or ORIGIN_POT:ORIGIN_TAG@ORIGIN_SNAP', () => {
  assert.ok(validMeta('-\n'));
  assert.ok(validMeta('-'));
  assert.ok(validMeta('base-amd64-14_3:1.0.0@1700000000\n'));
  for (const bad of ['', '\n', 'x', 'a:b', 'a@b', '- extra', '-\n-\n']) assert.equal(validMeta(bad), false, bad);
});

test('validSkeinFile: 256 lowercase hex digits and a newline', () => {
  assert.ok(validSkeinFile(`${'a'.repeat(256)}\n`));
  assert.equal(validSkeinFile(`${'A'.repeat(256)}\n`), false);
  assert.equal(validSkeinFile(`${'a'.repeat(128)}\n`), false);
});

test('a complete export passes and yields its digest', async () => {
  const { digest } = await checkExport(exportDir(), 'p', '1.0.0');
  assert.match(digest, /^[0-9a-f]{256}$/);
});

test('each broken export is refused with a one-line reason', async () => {
  await assert.rejects(checkExport(tempDir(), 'p', '1.0.0'), /pot export exited 0 but did not write p_1\.0\.0\.xz; see the build log/);
  await assert.rejects(checkExport(exportDir('xz', ''), 'p', '1.0.0'), /did not write p_1\.0\.0\.xz\.meta/);
  const empty = exportDir('x');
  writeFileSync(join(empty, 'p_1.0.0.xz'), '');
  await assert.rejects(checkExport(empty, 'p', '1.0.0'), /wrote an empty p_1\.0\.0\.xz/);
  await assert.rejects(checkExport(exportDir('x', 'garbage\n'), 'p', '1.0.0'), /p_1\.0\.0\.xz\.meta holds 'garbage', not '-' or ORIGIN:TAG@SNAP/);
  await assert.rejects(checkExport(exportDir('x', '-\n', 'nothex\n'), 'p', '1.0.0'), /is not a Skein-1024 digest/);
  await assert.rejects(checkExport(exportDir('x', '-\n', `${'0'.repeat(256)}\n`), 'p', '1.0.0'), /does not match the Skein-1024 of p_1\.0\.0\.xz \+ \.meta/);
});

test('a full disk at home fails the bring-home naming the file it could not write', async () => {
  const dir = exportDir(Buffer.alloc(3 * 1024 * 1024 + 5, 7).toString('latin1'));
  const to = exportFiles(tempDir(), 'p', '1.0.0');
  symlinkSync('/dev/full', to.xz); // every write there fails with ENOSPC, as on a full file system
  const error = await bringHome(new LocalHost(), exportFiles(dir, 'p', '1.0.0'), to).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof UserError, String(error));
  assert.match(error.message, new RegExp(`^could not write ${to.xz.replace(/[.]/g, '\\.')} \\(ENOSPC: no space left on device, write\\); make room there or build with another --output$`));
});
