// A repository that is a local folder (any static web server, or `pot-image serve`, can serve it).
import { createReadStream } from 'node:fs';
import { link, mkdir, open, readFile, readdir, rename, stat, unlink, utimes, writeFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LocalReadError, forEachChunk } from './file-chunks.js';
import { createHash, randomBytes } from 'node:crypto';
import { UserError, oneLine } from '../errors.js';
import type { LockOptions, RemoteStat, RepositoryTarget, Unlock, UploadSource } from './target.js';
import { acquireLock, lockId, type HeldLock, type LockStore } from './index-lock.js';

const LOCK_NAME = '.index.lock';
const CHUNK = 1024 * 1024;

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** This host, in temporary names (a digest: host names may hold any character). */
const HOST_ID = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return code(error) === 'EPERM';
  }
}

/** The index lock on a folder: link() a private file holding the token to `.index.lock`
 *  (create-if-absent with the content already there); markers are files created with O_EXCL. */
class FolderLockStore implements LockStore {
  readonly where: string;
  readonly stuckAdvice: string;

  constructor(private readonly root: string, private readonly fail: (action: string, name: string, error: unknown) => never) {
    this.where = join(root, LOCK_NAME);
    this.stuckAdvice = `delete ${this.where} and publish again`;
  }

  async create(content: string): Promise<boolean> {
    const mine = join(this.root, `${LOCK_NAME}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeFile(mine, content, { flag: 'wx' });
      await link(mine, this.where);
      return true;
    } catch (error) {
      if (code(error) === 'EEXIST') return false;
      this.fail('create the lock', LOCK_NAME, error);
    } finally {
      await unlink(mine).catch(() => undefined);
    }
  }

  async inspect(): Promise<HeldLock | null> {
    // Content and age from one open file, so both describe the same lock.
    let handle;
    try {
      handle = await open(this.where, 'r');
    } catch (error) {
      if (code(error) === 'ENOENT') return null;
      this.fail('read the lock', LOCK_NAME, error);
    }
    try {
      const [info, content] = await Promise.all([handle.stat(), handle.readFile('utf8')]);
      return { id: lockId(content), content, ageMs: Date.now() - info.mtimeMs };
    } finally {
      await handle.close();
    }
  }

  async remove(): Promise<void> {
    await unlink(this.where).catch((error) => { if (code(error) !== 'ENOENT') this.fail('remove the lock', LOCK_NAME, error); });
  }

  async touch(content: string): Promise<void> {
    // Touching another publisher's lock (ours was broken meanwhile) only makes it look younger: harmless.
    if ((await this.inspect())?.content === content) await utimes(this.where, new Date(), new Date());
  }

  async createMarker(name: string): Promise<boolean> {
    try {
      await writeFile(join(this.root, `${LOCK_NAME}.${name}`), `${hostname()} pid ${process.pid}\n`, { flag: 'wx' });
      return true;
    } catch (error) {
      if (code(error) === 'EEXIST') return false;
      this.fail('mark the stale lock', LOCK_NAME, error);
    }
  }

  async removeMarker(name: string): Promise<void> {
    await unlink(join(this.root, `${LOCK_NAME}.${name}`)).catch(() => undefined);
  }

  async markerAge(name: string): Promise<number | null> {
    const info = await stat(join(this.root, `${LOCK_NAME}.${name}`)).catch(() => null);
    return info ? Date.now() - info.mtimeMs : null;
  }

  /** Private lock files and markers of publishers that died taking or breaking the lock. */
  async sweep(staleMs: number): Promise<void> {
    for (const name of await readdir(this.root)) {
      if (!name.startsWith(`${LOCK_NAME}.`)) continue;
      const info = await stat(join(this.root, name)).catch(() => null);
      if (info && Date.now() - info.mtimeMs > staleMs) await rm(join(this.root, name), { force: true });
    }
  }
}

export class FolderTarget implements RepositoryTarget {
  readonly location: string;

  constructor(private readonly root: string) {
    this.location = root;
  }

  describe(name: string): string {
    return join(this.root, name);
  }

  private path(name: string): string {
    return join(this.root, name);
  }

  private fail(action: string, name: string, error: unknown): never {
    const reason = code(error) === 'ENOSPC' ? 'the disk is full' : oneLine(error);
    throw new UserError(`cannot ${action} ${this.describe(name)}: ${reason}; check the repository folder (space, permissions) and publish again`, 1, { cause: error });
  }

  async stat(name: string): Promise<RemoteStat | null> {
    try {
      const s = await stat(this.path(name));
      return s.isFile() ? { size: s.size } : null;
    } catch (error) {
      if (code(error) === 'ENOENT') return null;
      this.fail('read', name, error);
    }
  }

  async read(name: string): Promise<Buffer | null> {
    try {
      return await readFile(this.path(name));
    } catch (error) {
      if (code(error) === 'ENOENT') return null;
      this.fail('read', name, error);
    }
  }

  async readInto(name: string, consume: (chunk: Buffer) => void): Promise<boolean> {
    try {
      for await (const chunk of createReadStream(this.path(name), { highWaterMark: CHUNK })) consume(chunk as Buffer);
      return true;
    } catch (error) {
      if (code(error) === 'ENOENT') return false;
      this.fail('read', name, error);
    }
  }

  private async ensureRoot(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true });
    } catch (error) {
      throw new UserError(`cannot create the repository folder ${this.root}: ${oneLine(error)}; create it or choose another --to`, 1, { cause: error });
    }
  }

  async upload(temporary: string, source: UploadSource): Promise<void> {
    await this.ensureRoot();
    const observe = source.observe?.();
    const target = this.path(temporary);
    try {
      const out = await open(target, 'wx');
      try {
        await forEachChunk(source.path, async (chunk) => {
          await observe?.(chunk);
          // A write may be short (file size limit, disk nearly full): continue until it fails or completes.
          for (let offset = 0; offset < chunk.length;) {
            const { bytesWritten } = await out.write(chunk, offset, chunk.length - offset);
            if (bytesWritten === 0) throw Object.assign(new Error('no space left on the device'), { code: 'ENOSPC' });
            offset += bytesWritten;
          }
        }, source.signal);
        // Flush to disk before the rename, so a crash cannot leave a final name over unwritten data.
        await out.sync();
      } finally {
        await out.close();
      }
    } catch (error) {
      await this.remove(temporary).catch(() => undefined);
      if (error instanceof LocalReadError) throw new UserError(error.message, 1, { cause: error });
      this.fail('write', temporary, error);
    }
  }

  async uploadBytes(temporary: string, data: Buffer): Promise<void> {
    await this.ensureRoot();
    const target = this.path(temporary);
    try {
      await writeFile(target, data, { flag: 'wx' });
      await this.sync(target);
    } catch (error) {
      await this.remove(temporary).catch(() => undefined);
      this.fail('write', temporary, error);
    }
  }

  /** Flush to disk before the rename, so a crash cannot leave a final name over unwritten data. */
  private async sync(path: string): Promise<void> {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async placeNew(temporary: string, name: string): Promise<'placed' | 'exists' | 'gone'> {
    // link() refuses an existing destination atomically, unlike rename().
    try {
      await link(this.path(temporary), this.path(name));
    } catch (error) {
      if (code(error) === 'EEXIST') return 'exists';
      if (code(error) === 'ENOENT') return 'gone';
      if (code(error) !== 'EPERM' && code(error) !== 'ENOTSUP' && code(error) !== 'EOPNOTSUPP') this.fail('create', name, error);
      // Filesystems without hard links: check, then rename (a small window, covered by the content check).
      if (await this.stat(name)) return 'exists';
      try {
        await rename(this.path(temporary), this.path(name));
        return 'placed';
      } catch (renameError) {
        this.fail('create', name, renameError);
      }
    }
    await this.remove(temporary);
    return 'placed';
  }

  /** `.<name>.<host>-<pid>-<random>.part`: the next publish on this host can tell a dead publisher's leftover at once. */
  temporaryName(name: string): string {
    return `.${name}.${HOST_ID}-${process.pid}-${randomBytes(4).toString('hex')}.part`;
  }

  async removeLeftovers(name: string, _contentId: string, staleMs: number): Promise<Array<{ name: string; removed: boolean }>> {
    const removed: Array<{ name: string; removed: boolean }> = [];
    const prefix = `.${name}.`;
    for (const entry of await this.list()) {
      if (!entry.startsWith(prefix) || !entry.endsWith('.part')) continue;
      const owner = /^([0-9a-f]{8})-(\d+)-[0-9a-f]+$/.exec(entry.slice(prefix.length, -'.part'.length));
      const info = await stat(this.path(entry)).catch(() => null);
      if (!info) continue;
      // Ours to judge: a publisher on this host that is gone, or anyone's after the stale time.
      const dead = owner !== null && owner[1] === HOST_ID && Number(owner[2]) !== process.pid && !processAlive(Number(owner[2]));
      if (!dead && Date.now() - info.mtimeMs <= staleMs) continue;
      await this.remove(entry);
      removed.push({ name: entry, removed: true });
    }
    return removed;
  }

  async replace(temporary: string, name: string): Promise<void> {
    try {
      await rename(this.path(temporary), this.path(name));
    } catch (error) {
      this.fail('replace', name, error);
    }
  }

  async remove(name: string): Promise<void> {
    try {
      await unlink(this.path(name));
    } catch (error) {
      if (code(error) !== 'ENOENT') this.fail('delete', name, error);
    }
  }

  async list(): Promise<string[]> {
    try {
      return await readdir(this.root);
    } catch (error) {
      if (code(error) === 'ENOENT') return [];
      this.fail('list', '', error);
    }
  }

  /** The index lock (index-lock.ts): `.index.lock`, created with its content in one step. */
  async lock(owner: string, options: LockOptions): Promise<Unlock> {
    await this.ensureRoot();
    return acquireLock(new FolderLockStore(this.root, (action, name, error) => this.fail(action, name, error)), `${owner} ${hostname()} pid ${process.pid}`, options);
  }

  async close(): Promise<void> {
    // Nothing held open.
  }
}
