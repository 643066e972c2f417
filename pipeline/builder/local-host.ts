// The local machine as a BuilderHost: commands through the ExecaRunner (build
// log, redaction, process groups), files through node:fs. Each file operation
// is written to the build log as the shell command it amounts to.
import { createReadStream } from 'node:fs';
import { access, constants, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, chmod, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { ExecaRunner, type ExecaRunnerOptions } from '../runner/execa-runner.js';
import { shellQuote } from '../runner/shell-quote.js';
import type { CommandRunner, RunOptions, RunResult } from '../runner/types.js';
import type { BuilderHost, FileStream, FilesStream } from './host.js';

const q = shellQuote;

/** `-m 0755 ` for a mode, '' without. */
export function modeFlag(mode: number | undefined): string {
  return mode === undefined ? '' : `-m ${mode.toString(8).padStart(4, '0')} `;
}

export class LocalHost implements BuilderHost {
  readonly where = '';
  readonly runner: CommandRunner;

  /** `options`: the ExecaRunner's options, or the runner to use (tests pass scripted ones). */
  constructor(options: ExecaRunnerOptions | CommandRunner = {}, private readonly tempBase = tmpdir()) {
    this.runner = 'run' in options ? options : new ExecaRunner(options);
  }

  /** Log a line of in-process work (a file operation) as the command it amounts to. */
  private note(line: string): void {
    if (this.runner instanceof ExecaRunner) this.runner.log(`\n$ ${line}   # in-process\n`);
  }

  run(command: string, args: string[], options?: RunOptions): Promise<RunResult> {
    return this.runner.run(command, args, options);
  }

  abort(): void {
    this.runner.abort();
  }

  async makeTempDir(prefix: string, mode?: number): Promise<string> {
    const dir = await mkdtemp(join(this.tempBase, prefix));
    if (mode !== undefined) await chmod(dir, mode);
    this.note(`mktemp -d ${q(join(this.tempBase, `${prefix}XXXXXX`))}   # ${dir}`);
    return dir;
  }

  async listTemp(prefix: string): Promise<string[]> {
    const names = await readdir(this.tempBase).catch(() => [] as string[]);
    return names.filter((n) => n.startsWith(prefix)).sort().map((n) => join(this.tempBase, n));
  }

  async makeDir(path: string, mode?: number): Promise<void> {
    this.note(`mkdir -p ${modeFlag(mode)}${q(path)}`);
    await mkdir(path, { recursive: true });
    if (mode !== undefined) await chmod(path, mode);
  }

  async writeFolder(dir: string, stream: Readable, what: string): Promise<void> {
    this.note(`tar -xpf - -C ${q(dir)}   # ${what}`);
    // chmod with a zero umask: the modes in the archive are the modes on disk, as with tar -p.
    await pipeline(stream, tar.x({ cwd: dir, chmod: true, processUmask: 0, preserveOwner: false }));
  }

  async writeFile(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, data, { mode });
    await rename(tmp, path);
  }

  async readFile(path: string): Promise<Buffer | undefined> {
    try {
      return await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async openRead(path: string): Promise<FileStream> {
    const { size } = await stat(path);
    return { size, stream: createReadStream(path, { highWaterMark: 1 << 20 }) };
  }

  async openReadAll(paths: readonly string[]): Promise<FilesStream> {
    const sizes = await Promise.all(paths.map((p) => stat(p).then((st) => st.size, () => undefined)));
    const present = paths.filter((_p, i) => sizes[i] !== undefined);
    async function* chunks() {
      for (const p of present) yield* createReadStream(p, { highWaterMark: 1 << 20 });
    }
    return { sizes, stream: Readable.from(chunks(), { objectMode: false }) };
  }

  async exists(path: string): Promise<boolean> {
    try {
      await stat(path);
      return true;
    } catch {
      return false;
    }
  }

  async writable(path: string): Promise<boolean> {
    try {
      await access(path, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  }

  async rename(from: string, to: string): Promise<void> {
    this.note(`mv ${q(from)} ${q(to)}`);
    await mkdir(dirname(to), { recursive: true });
    await rename(from, to);
  }

  async remove(path: string): Promise<void> {
    this.note(`rm -rf ${q(path)}`);
    await rm(path, { recursive: true, force: true });
  }

  async inProcess<T>(line: string, work: () => Promise<T>): Promise<T> {
    this.note(line);
    return work();
  }

  async reach(ip: string, port: number): Promise<string> {
    const host = ip.includes(':') ? `[${ip}]` : ip;
    return port === 80 ? `http://${host}` : `http://${host}:${port}`;
  }

  async close(): Promise<void> {
    // Nothing held open.
  }
}
