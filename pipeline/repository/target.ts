// What publishing needs from a repository, whether it is a folder or a WebDAV server.
// Every name is one path segment inside the repository (checked by names.ts).

export interface RemoteStat {
  size: number;
}

export interface UploadSource {
  path: string;
  size: number;
  /** Called at the start of every attempt; the returned function sees each chunk sent
   *  (the upload waits for a returned promise: backpressure). */
  observe?: () => (chunk: Buffer) => void | Promise<void>;
  /** Stops the upload (Ctrl-C); the caller then removes the temporary file. */
  signal?: AbortSignal;
}

/** Releases an acquired lock. */
export type Unlock = () => Promise<void>;

export interface LockOptions {
  /** A lock older than this is taken to be left by a crashed publisher and broken. */
  staleMs: number;
  /** Give up waiting for a live lock after this long. */
  waitMs: number;
  /** Told when the lock is busy or a stale one is broken. */
  log?: (line: string) => void;
}

export interface RepositoryTarget {
  /** Where the repository is, for messages (no credentials). */
  readonly location: string;
  /** The full location of one file, for messages. */
  describe(name: string): string;
  stat(name: string): Promise<RemoteStat | null>;
  /** The bytes of a small file, or null when it does not exist. */
  read(name: string): Promise<Buffer | null>;
  /** Stream a file's bytes into `consume`; false when it does not exist. */
  readInto(name: string, consume: (chunk: Buffer) => void): Promise<boolean>;
  /** A hidden temporary name for `name` in the same folder; `contentId` names the bytes that go there. */
  temporaryName(name: string, contentId: string): string;
  /** Remove temporaries of `name` that crashed publishers left (never a live one's). Returns each one
   *  found: removed, or (too recent to tell from a live publisher's) left to be replaced by this upload. */
  removeLeftovers(name: string, contentId: string, staleMs: number): Promise<Array<{ name: string; removed: boolean }>>;
  /** Write `temporary` from a local file (the temporary name must not exist yet). */
  upload(temporary: string, source: UploadSource): Promise<void>;
  /** Write `temporary` from bytes in memory. */
  uploadBytes(temporary: string, data: Buffer): Promise<void>;
  /** Rename `temporary` to `name` unless `name` exists ('exists', temporary kept); 'gone' when the
   *  temporary is no longer there (a publisher of the identical bytes moved it first). */
  placeNew(temporary: string, name: string): Promise<'placed' | 'exists' | 'gone'>;
  /** Rename `temporary` over `name` in one step (index files). */
  replace(temporary: string, name: string): Promise<void>;
  /** Delete a file; no error when it is already gone. */
  remove(name: string): Promise<void>;
  /** Take the repository's index lock. */
  lock(owner: string, options: LockOptions): Promise<Unlock>;
  /** Names of the files in the repository, when the target can list them (folders). */
  list?(): Promise<string[]>;
  close(): Promise<void>;
}
