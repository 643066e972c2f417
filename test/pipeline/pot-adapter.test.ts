// The pot adapter's argv builders: exactly what pot 0.16's getopts accept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configArgs } from '../../pipeline/pot/config.js';
import { createArgs, potCreate } from '../../pipeline/pot/create.js';
import { destroyArgs } from '../../pipeline/pot/destroy.js';
import { exportArgs, exportFiles } from '../../pipeline/pot/export.js';
import { infoArgs, potExists } from '../../pipeline/pot/info.js';
import { lsArgs, potList } from '../../pipeline/pot/ls.js';
import { snapshotArgs } from '../../pipeline/pot/snapshot.js';
import { potVersion, versionArgs } from '../../pipeline/pot/version.js';
import { PlanBook, PlanHost } from '../../pipeline/builder/plan-host.js';
import type { CommandRunner, RunResult } from '../../pipeline/runner/types.js';

/** A runner that answers every command with the given result. */
function answering(result: Partial<RunResult> | Error): CommandRunner & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    async run(command, args) {
      calls.push([command, ...args]);
      if (result instanceof Error) throw result;
      return { command, args, exitCode: 0, stdout: '', stderr: '', durationMs: 0, ...result };
    },
    abort() {},
  };
}

test('create: -t single, -b, -N and one -f per flavour in order', () => {
  assert.deepEqual(
    createArgs({ name: 'p-amd64-13_0', release: '13.0', network: 'public-bridge', flavours: ['fbsd-update', 'x', 'x+4'] }),
    ['create', '-p', 'p-amd64-13_0', '-t', 'single', '-b', '13.0', '-N', 'public-bridge', '-f', 'fbsd-update', '-f', 'x', '-f', 'x+4'],
  );
});

test('export: -c and -l before -D, -S only with a key; the files pot writes', () => {
  assert.deepEqual(exportArgs({ name: 'p', tag: '1.0.0', level: 6, dir: '/o' }), ['export', '-p', 'p', '-t', '1.0.0', '-c', '-l', '6', '-D', '/o']);
  assert.deepEqual(exportArgs({ name: 'p', tag: '1.0.0', level: 0, dir: '/o', checkTag: false, signKey: '/k' }), ['export', '-p', 'p', '-t', '1.0.0', '-l', '0', '-D', '/o', '-S', '/k']);
  assert.deepEqual(exportFiles('/o', 'p', '1.0.0', true), { xz: '/o/p_1.0.0.xz', meta: '/o/p_1.0.0.xz.meta', skein: '/o/p_1.0.0.xz.skein', sig: '/o/p_1.0.0.xz.skein.sig' });
  assert.equal(exportFiles('/o', 'p', '1.0.0').sig, undefined);
});

test('snapshot, destroy, info, ls, version, config', () => {
  assert.deepEqual(snapshotArgs('p'), ['snapshot', '-p', 'p']);
  assert.deepEqual(destroyArgs('p'), ['destroy', '-p', 'p']);
  assert.deepEqual(destroyArgs('p', true), ['destroy', '-F', '-p', 'p']);
  assert.deepEqual(infoArgs('p'), ['info', '-q', '-p', 'p']);
  assert.deepEqual(lsArgs(), ['ls', '-q']);
  assert.deepEqual(versionArgs(), ['version', '-q']);
  assert.deepEqual(configArgs('zfs_root'), ['config', '-q', '-g', 'zfs_root']);
});

test('run functions go through the runner and read its answers', async () => {
  assert.equal(await potExists(answering({ exitCode: 0 }), 'p'), true);
  assert.equal(await potExists(answering({ exitCode: 1 }), 'p'), false);
  assert.equal(await potVersion(answering({ stdout: '0.16.1\n' })), '0.16.1');
  assert.equal(await potVersion(answering({ stdout: 'pot version: 0.15.6\n' })), '0.15.6');
  assert.equal(await potVersion(answering(new Error("'pot' is not installed"))), undefined);
  assert.deepEqual(await potList(answering({ stdout: 'a\n\nb\n' })), ['a', 'b']);
  const plan = new PlanHost(new PlanBook());
  await potCreate(plan, { name: 'p', release: '14.3', network: 'inherit', flavours: ['a b'] });
  assert.deepEqual(plan.lines, ["pot create -p p -t single -b 14.3 -N inherit -f 'a b'"]);
});
