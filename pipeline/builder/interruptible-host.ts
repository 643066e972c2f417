// Wraps a host so Ctrl-C/SIGTERM stops the build: what runs is killed and every
// later operation fails at once, while the step cleanups keep using the
// wrapped host (they must still be able to destroy the pot).
import type { Readable } from 'node:stream';
import { UserError } from '../errors.js';
import type { RunOptions, RunResult } from '../runner/types.js';
import type { BuilderHost, FileStream, FilesStream } from './host.js';

export class InterruptibleHost implements BuilderHost {
  private reason: string | undefined;

  constructor(readonly inner: BuilderHost) {}

  get where(): string {
    return this.inner.where;
  }

  get interrupted(): string | undefined {
    return this.reason;
  }

  /** Stop now: kill what runs, refuse what comes. */
  interrupt(reason: string): void {
    this.reason ??= reason;
    this.inner.abort();
  }

  private async guard<T>(op: () => Promise<T>): Promise<T> {
    if (this.reason) throw new UserError(`interrupted by ${this.reason}`, 130);
    const result = await op();
    if (this.reason) throw new UserError(`interrupted by ${this.reason}`, 130);
    return result;
  }

  run(command: string, args: string[], options?: RunOptions): Promise<RunResult> {
    return this.guard(() => this.inner.run(command, args, options));
  }

  abort(): void {
    this.inner.abort();
  }

  makeTempDir(prefix: string, mode?: number): Promise<string> { return this.guard(() => this.inner.makeTempDir(prefix, mode)); }
  listTemp(prefix: string): Promise<string[]> { return this.guard(() => this.inner.listTemp(prefix)); }
  makeDir(path: string, mode?: number): Promise<void> { return this.guard(() => this.inner.makeDir(path, mode)); }
  writeFolder(dir: string, tar: Readable, what: string): Promise<void> { return this.guard(() => this.inner.writeFolder(dir, tar, what)); }
  writeFile(path: string, data: string | Uint8Array, mode?: number): Promise<void> { return this.guard(() => this.inner.writeFile(path, data, mode)); }
  readFile(path: string): Promise<Buffer | undefined> { return this.guard(() => this.inner.readFile(path)); }
  openRead(path: string): Promise<FileStream> { return this.guard(() => this.inner.openRead(path)); }
  openReadAll(paths: readonly string[]): Promise<FilesStream> { return this.guard(() => this.inner.openReadAll(paths)); }
  exists(path: string): Promise<boolean> { return this.guard(() => this.inner.exists(path)); }
  writable(path: string): Promise<boolean> { return this.guard(() => this.inner.writable(path)); }
  rename(from: string, to: string): Promise<void> { return this.guard(() => this.inner.rename(from, to)); }
  remove(path: string): Promise<void> { return this.guard(() => this.inner.remove(path)); }
  inProcess<T>(line: string, work: () => Promise<T>): Promise<T | undefined> { return this.guard(() => this.inner.inProcess(line, work)); }
  reach(ip: string, port: number): Promise<string> { return this.guard(() => this.inner.reach(ip, port)); }
  close(): Promise<void> { return this.inner.close(); }
}

/** The host underneath an InterruptibleHost: for removing what a step made, even after Ctrl-C. */
export function uninterrupted(host: BuilderHost): BuilderHost {
  return host instanceof InterruptibleHost ? host.inner : host;
}
