// The image digest of an upload (or of an image arriving from the builder),
// computed in a worker thread on a copy of each chunk as it is sent: the bytes
// hashed are the bytes uploaded, and the upload only waits when all POOL buffers
// are still with the worker.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const POOL = 6;
const BUFFER_BYTES = 1024 * 1024;

/** Compiled: digest-worker.js beside this file. From sources (tests, through tsx): a worker
 *  that first registers tsx's loader, which workers do not inherit, then loads the .ts. */
function startWorker(): Worker {
  const js = new URL('./digest-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js);
  const ts = new URL('./digest-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(ts)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`));
}

// A worker started ahead of time (see warmUpDigestWorker), not holding the process open.
let spare: Worker | undefined;

/** Start the digest worker now, so its thread and WebAssembly engine are ready when the
 *  upload begins instead of the first chunks waiting for them (publish calls this first). */
export function warmUpDigestWorker(): void {
  if (spare) return;
  const worker = startWorker();
  worker.unref();
  // A worker that fails to start is dropped; the real one started later reports the failure.
  worker.once('error', () => { if (spare === worker) spare = undefined; });
  spare = worker;
}

type Reply = { type: 'ack'; data: Uint8Array } | { type: 'digest'; id: number; hex: string; bytes: number };

export class ParallelDigest {
  private readonly worker: Worker;
  private readonly free: Uint8Array[] = [];
  /** The pool buffer being filled, and how far. */
  private current?: Uint8Array;
  private filled = 0;
  private waiters: (() => void)[] = [];
  private finishes = 0;
  private result?: { id: number; resolve: (value: { hex: string; bytes: number }) => void };
  private failure?: Error;

  constructor() {
    for (let i = 0; i < POOL; i++) this.free.push(new Uint8Array(BUFFER_BYTES));
    this.worker = spare ?? startWorker();
    spare = undefined;
    this.worker.ref();
    this.worker.on('message', (m: Reply) => {
      if (m.type === 'ack') {
        if (m.data.byteLength === BUFFER_BYTES) this.free.push(m.data);
        this.waiters.shift()?.();
      } else if (this.result?.id === m.id) {
        this.result.resolve({ hex: m.hex, bytes: m.bytes });
      }
    });
    this.worker.on('error', (error) => {
      this.failure = error;
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Hash a copy of `chunk`; waits only while every pool buffer is being hashed. Small chunks
   *  (a socket's 64 KiB reads) are gathered into one pool buffer: one message per MiB. */
  async add(chunk: Uint8Array): Promise<void> {
    for (let offset = 0; offset < chunk.length;) {
      if (!this.current) {
        while (this.free.length === 0) {
          if (this.failure) throw this.failure;
          await new Promise<void>((resolve) => this.waiters.push(resolve));
        }
        this.current = this.free.pop()!;
        this.filled = 0;
      }
      if (this.failure) throw this.failure;
      const take = Math.min(BUFFER_BYTES - this.filled, chunk.length - offset);
      this.current.set(chunk.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === BUFFER_BYTES) this.send();
    }
  }

  /** Hand the gathered buffer to the worker. */
  private send(): void {
    const buffer = this.current!;
    this.current = undefined;
    this.worker.postMessage({ type: 'chunk', data: buffer, length: this.filled }, [buffer.buffer as ArrayBuffer]);
  }

  /** Forget what was hashed so far (a retried upload starts over). */
  reset(): void {
    if (this.current) this.free.push(this.current);
    this.current = undefined;
    this.worker.postMessage({ type: 'finish', id: ++this.finishes, meta: new Uint8Array(0) });
  }

  async finish(meta: Uint8Array): Promise<{ hex: string; bytes: number }> {
    if (this.failure) throw this.failure;
    if (this.current) this.send();
    const id = ++this.finishes;
    const done = new Promise<{ hex: string; bytes: number }>((resolve, reject) => {
      this.result = { id, resolve };
      this.worker.once('error', reject);
    });
    this.worker.postMessage({ type: 'finish', id, meta });
    return done;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
