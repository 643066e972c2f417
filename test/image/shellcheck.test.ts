// Every shell script of the image and its tooling passes shellcheck in its
// own dialect (POSIX sh for FreeBSD's /bin/sh).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../scripts/cook-render.js';

const run = promisify(execFile);
const ROOTS = ['flavours', 'scripts', 'test/stand-ins'];
const shellcheck = ['/usr/bin/shellcheck', '/usr/local/bin/shellcheck'].find(existsSync);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []);
}

/** 'sh', 'bash' or undefined (not a shell file). */
function dialect(path: string): 'sh' | 'bash' | undefined {
  const head = readFileSync(path, 'utf8').slice(0, 200);
  const shebang = /^#!\s*(?:\/usr\/bin\/env\s+)?\S*?\b(sh|bash|dash)\b/.exec(head);
  if (shebang) return shebang[1] === 'bash' ? 'bash' : 'sh';
  if (path.endsWith('.sh') || /^# shellcheck shell=sh/m.test(head)) return 'sh';
  return undefined;
}

const scripts = ROOTS.flatMap((r) => existsSync(join(PROJECT_ROOT, r)) ? files(join(PROJECT_ROOT, r)) : [])
  .filter((f) => statSync(f).size > 0 && dialect(f) !== undefined);

describe('shellcheck', { skip: shellcheck ? undefined : 'shellcheck not installed' }, () => {
  it('finds the image scripts', () => {
    const names = scripts.map((f) => relative(PROJECT_ROOT, f));
    for (const expected of ['flavours/matrix-synapse-nomad.sh', 'flavours/matrix-synapse-nomad.d/cook',
      'flavours/matrix-synapse-nomad.d/libexec/common.sh', 'scripts/jail-sandbox.sh', 'test/stand-ins/service']) {
      assert.ok(names.includes(expected), expected);
    }
  });

  for (const file of scripts) {
    const name = relative(PROJECT_ROOT, file);
    it(name, async () => {
      const kind = dialect(file)!;
      const result = await run(shellcheck!, ['-x', '-s', kind, '-f', 'gcc', file], { cwd: PROJECT_ROOT }).then(
        () => '', (error: { stdout?: string }) => error.stdout || String(error));
      assert.equal(result, '', `shellcheck (${kind}) reports:\n${result}`);
    });
  }
});
