// Bringing an export home from a builder over SSH, against a real sshd on
// 127.0.0.1: the bytes and the Skein-1024 digest arrive intact with the digest
// computed in a worker beside the transfer; the connection offers AES-GCM first
// unless ssh_config chose the ciphers, and still agrees with a server without
// it; and each way it can go wrong (digest mismatch, a connection dropped
// mid-transfer by SIGKILL, a file cut short on the builder) is one line naming
// the file or the builder.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import { closeSync, openSync, readFileSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ImageDigest } from '../../pipeline/artifacts/image-digest.js';
import { skeinLine } from '../../pipeline/artifacts/skein1024.js';
import { bringHome } from '../../pipeline/builder/bring-home.js';
import { AES_GCM, SshHost, preferredCiphers } from '../../pipeline/builder/ssh-host.js';
import { parseBuilder } from '../../pipeline/builder/ssh-target.js';
import { UserError } from '../../pipeline/errors.js';
import { exportFiles } from '../../pipeline/pot/export.js';
import { ExecaRunner } from '../../pipeline/runner/execa-runner.js';
import { launchSshd, sshdMissing, type Sshd } from '../helpers/sshd.js';
import { tempDir } from '../helpers/tmp.js';

const skip = sshdMissing();
const POT = 'p';
const TAG = '1.0.0';
const MIB = 1024 * 1024;
const DEFAULTS = 'chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com';

/** A real sshd (no recording ForceCommand: the transfer's bytes go straight through), DEBUG1 so it logs the cipher. */
async function server(first: string[] = []): Promise<Sshd> {
  const dir = tempDir('pot-image-sshd-');
  const sshd = await launchSshd(join(dir, 'sshd'), { PATH: '/usr/bin:/bin', TMPDIR: dir }, undefined, undefined, false, false, ['LogLevel DEBUG1', ...first]);
  after(() => sshd.stop());
  return sshd;
}

/** An export of `sizeMiB` MiB of random bytes, its .meta and its true .skein, in a folder "on the builder". */
function exported(sizeMiB: number): ReturnType<typeof exportFiles> {
  const files = exportFiles(tempDir(), POT, TAG);
  const digest = new ImageDigest();
  const fd = openSync(files.xz, 'w');
  const chunk = Buffer.alloc(MIB);
  for (let i = 0; i < sizeMiB; i++) {
    randomFillSync(chunk);
    digest.addXz(chunk);
    writeSync(fd, chunk);
  }
  closeSync(fd);
  writeFileSync(files.meta, '-\n');
  writeFileSync(files.skein, skeinLine(digest.finish('-\n')));
  return files;
}

async function connected(sshd: Sshd, configFile = sshd.clientConfig): Promise<SshHost> {
  const host = new SshHost({ target: parseBuilder(sshd.url)!, runner: new ExecaRunner(), configFile });
  await host.connect();
  return host;
}

/** The cipher of the connection's server->client direction, as sshd logged it. */
function cipherOf(sshd: Sshd): string | undefined {
  return [...sshd.log().matchAll(/kex: server->client cipher: (\S+)/g)].pop()?.[1];
}

async function rejection(work: Promise<unknown>): Promise<UserError> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof UserError, `a UserError, not ${String(error)}`);
  assert.doesNotMatch(error.message, /\n/, 'one line');
  return error;
}

test('preferredCiphers: AES-GCM first only when the list is OpenSSH\'s default; the defaults follow it', () => {
  assert.equal(preferredCiphers(DEFAULTS, DEFAULTS), `${AES_GCM},chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes256-gcm@openssh.com`);
  assert.equal(preferredCiphers('aes256-ctr', DEFAULTS), undefined, 'a Ciphers line in ssh_config is kept');
  assert.equal(preferredCiphers('chacha20-poly1305@openssh.com,aes128-ctr', 'chacha20-poly1305@openssh.com,aes128-ctr'), undefined, 'an ssh without AES-GCM: nothing to prefer');
  assert.equal(preferredCiphers(`${AES_GCM},aes256-ctr`, `${AES_GCM},aes256-ctr`), undefined, 'already first');
  assert.equal(preferredCiphers(undefined, DEFAULTS), undefined, 'ssh -G failed: ssh decides');
});

test('over SSH: a 40 MiB export comes home byte for byte with its verified digest, over AES-GCM', { skip }, async () => {
  const sshd = await server();
  const from = exported(40);
  const to = exportFiles(tempDir(), POT, TAG);
  const host = await connected(sshd);
  try {
    let last = 0;
    const result = await bringHome(host, from, to, (received, total) => {
      assert.ok(received > last && total === 40 * MIB);
      last = received;
    });
    assert.equal(last, 40 * MIB);
    assert.equal(result.digest, readFileSync(from.skein, 'utf8').trim());
    assert.deepEqual(result.sizes, { xz: 40 * MIB, meta: 2, skein: 257 });
    assert.ok(readFileSync(to.xz).equals(readFileSync(from.xz)), 'the .xz arrived intact');
    assert.equal(readFileSync(to.skein, 'utf8'), readFileSync(from.skein, 'utf8'));
    assert.equal(cipherOf(sshd), AES_GCM);
  } finally {
    await host.close();
  }
});

test('over SSH: a server without AES-GCM still agrees on a cipher; a Ciphers line in ssh_config is the user\'s choice and kept', { skip }, async () => {
  const noGcm = await server(['Ciphers chacha20-poly1305@openssh.com,aes256-ctr']);
  const from = exported(2);
  const host = await connected(noGcm);
  try {
    await bringHome(host, from, exportFiles(tempDir(), POT, TAG));
    assert.equal(cipherOf(noGcm), 'chacha20-poly1305@openssh.com');
  } finally {
    await host.close();
  }

  const sshd = await server();
  const chosen = join(tempDir(), 'ssh_config');
  writeFileSync(chosen, readFileSync(sshd.clientConfig, 'utf8').replace('Host 127.0.0.1\n', 'Host 127.0.0.1\n  Ciphers aes256-ctr\n'));
  const mine = await connected(sshd, chosen);
  try {
    await bringHome(mine, from, exportFiles(tempDir(), POT, TAG));
    assert.equal(cipherOf(sshd), 'aes256-ctr');
  } finally {
    await mine.close();
  }
});

test('over SSH: an .xz whose digest is not the .skein\'s is refused, naming the .skein', { skip }, async () => {
  const sshd = await server();
  const from = exported(8);
  // One byte changed on the builder after the export wrote its digest.
  const fd = openSync(from.xz, 'r+');
  writeSync(fd, Buffer.from([readFileSync(from.xz)[5 * MIB]! ^ 1]), 0, 1, 5 * MIB);
  closeSync(fd);
  const host = await connected(sshd);
  try {
    const error = await rejection(bringHome(host, from, exportFiles(tempDir(), POT, TAG)));
    assert.match(error.message, /^p_1\.0\.0\.xz\.skein does not match the Skein-1024 of p_1\.0\.0\.xz \+ \.meta: the export is corrupt$/);
  } finally {
    await host.close();
  }
});

test('over SSH: a connection dropped mid-transfer (sshd\'s session SIGKILLed) fails naming the builder', { skip }, async () => {
  const sshd = await server();
  const from = exported(48);
  const host = await connected(sshd);
  try {
    let killed = false;
    let received = 0;
    const error = await rejection(bringHome(host, from, exportFiles(tempDir(), POT, TAG), (r) => {
      received = r;
      if (killed) return;
      killed = true;
      for (const pid of sshd.sessions()) process.kill(pid, 'SIGKILL');
    }));
    assert.ok(killed && received < 48 * MIB, `the drop came mid-transfer (${received} bytes)`);
    assert.match(error.message, new RegExp(`^lost the connection to the builder root@127\\.0\\.0\\.1:${sshd.port} during 'cat `));
  } finally {
    await host.close();
  }
});

test('over SSH: an .xz cut short on the builder while it streams is refused, naming the file and the bytes that came', { skip }, async () => {
  const sshd = await server();
  const from = exported(48);
  const host = await connected(sshd);
  try {
    let cut = false;
    const error = await rejection(bringHome(host, from, exportFiles(tempDir(), POT, TAG), () => {
      // At the first bytes, far ahead of what the pipes and ssh's channel window hold in flight.
      if (!cut) truncateSync(from.xz, 24 * MIB);
      cut = true;
    }));
    assert.match(error.message, new RegExp(`^p_1\\.0\\.0\\.xz arrived with ${24 * MIB} of its ${48 * MIB} bytes; the connection to the builder broke$`));
  } finally {
    await host.close();
  }
});
