// A repository that is a local folder (any static web server, or `pot-image serve`, can serve it).
import { createReadStream } from 'node:fs';
import { link, mkdir, open, readFile, readdir, rename, stat, unlink, writeFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LocalReadError, forEachChunk } from './file-chunks.js';
import { randomBytes } from 'node:crypto';
import { UserError, oneLine } from '../errors.js';
import type { LockOptions, RemoteStat, RepositoryTarget, Unlock, UploadSource } from './target.js';

const LOCK_NAME = '.index.lock';
const CHUNK = 1024 * 1024;

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function waitFor(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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

  async placeNew(temporary: string, name: string): Promise<boolean> {
    // link() refuses an existing destination atomically, unlike rename().
    try {
      await link(this.path(temporary), this.path(name));
    } catch (error) {
      if (code(error) === 'EEXIST') return false;
      if (code(error) !== 'EPERM' && code(error) !== 'ENOTSUP' && code(error) !== 'EOPNOTSUPP') this.fail('create', name, error);
      // Filesystems without hard links: check, then rename (a small window, covered by the content check).
      if (await this.stat(name)) return false;
      try {
        await rename(this.path(temporary), this.path(name));
        return true;
      } catch (renameError) {
        this.fail('create', name, renameError);
      }
    }
    await this.remove(temporary);
    return true;
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

  /** A lock file created exclusively; one older than staleMs is renamed away (only one breaker wins) and removed. */
  async lock(owner: string, options: LockOptions): Promise<Unlock> {
    await this.ensureRoot();
    const path = this.path(LOCK_NAME);
    const token = `${owner} ${hostname()} pid ${process.pid} ${randomBytes(6).toString('hex')}`;
    const started = Date.now();
    let delay = 20;
    let told = false;
    for (;;) {
      try {
        await writeFile(path, `${token}\n${new Date().toISOString()}\n`, { flag: 'wx' });
        break;
      } catch (error) {
        if (code(error) !== 'EEXIST') this.fail('create the lock', LOCK_NAME, error);
      }
      let age: number | undefined;
      try {
        age = Date.now() - (await stat(path)).mtimeMs;
      } catch (error) {
        if (code(error) !== 'ENOENT') this.fail('read the lock', LOCK_NAME, error);
        continue;
      }
      if (age > options.staleMs) {
        const aside = `${path}.stale-${randomBytes(6).toString('hex')}`;
        try {
          await rename(path, aside);
          await rm(aside, { force: true });
          options.log?.(`broke a stale index lock (${Math.round(age / 1000)} s old) at ${path}`);
        } catch (error) {
          if (code(error) !== 'ENOENT') this.fail('break the stale lock', LOCK_NAME, error);
        }
        continue;
      }
      if (Date.now() - started > options.waitMs) {
        throw new UserError(`the repository index at ${this.root} stayed locked for ${Math.round(options.waitMs / 1000)} s by another publisher; if none is running, delete ${path} and publish again`);
      }
      if (!told) {
        options.log?.(`waiting for another publisher's index lock at ${path}`);
        told = true;
      }
      await waitFor(delay);
      delay = Math.min(delay * 2, 500);
    }
    return async () => {
      // Only remove the lock if it is still ours (a stale-breaker may have taken over).
      const content = await readFile(path, 'utf8').catch(() => '');
      if (content.startsWith(`${token}\n`)) await unlink(path).catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    // Nothing held open.
  }
}
