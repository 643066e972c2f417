// The repository's index lock, the same protocol over any store (a folder, a WebDAV
// server) that can create a name exclusively.
//
// Taking it: create the lock holding a unique token (atomic create-if-absent).
// Holding it: a heartbeat refreshes its age, so a live publisher's lock never looks stale.
// Breaking a stale one (its holder crashed): the lock is named by a digest of its content,
// so a breaker only ever removes the lock it judged stale. Breakers of one stale lock race
// for a marker named after it (created exclusively; only one wins); the winner looks again
// under the marker and removes the lock only if it is still that same one. A breaker that
// judged the old lock stale but comes late finds a different lock (or none) and leaves it.
// A marker whose breaker died is itself stale after the same time; the next marker is used.
import { createHash, randomBytes } from 'node:crypto';
import { UserError } from '../errors.js';
import type { LockOptions, Unlock } from './target.js';

export interface HeldLock {
  /** Names this lock instance: a digest of its content, or 'none' while it has no content yet. */
  id: string;
  /** Its content, when readable. */
  content: string | null;
  /** Its age by the store's own clock; undefined when the store cannot tell. */
  ageMs?: number;
}

export interface LockStore {
  /** The lock's location, for messages. */
  readonly where: string;
  /** What to do when a live lock is never released (e.g. "delete X and publish again"). */
  readonly stuckAdvice: string;
  /** Create the lock holding `content`; false when a lock exists. */
  create(content: string): Promise<boolean>;
  /** The lock now, or null when there is none. */
  inspect(): Promise<HeldLock | null>;
  /** Remove the lock (whichever instance is there: callers check first). */
  remove(): Promise<void>;
  /** Refresh the lock's age if it still holds `content`. */
  touch(content: string): Promise<void>;
  /** Create a break marker exclusively; false when it exists. */
  createMarker(name: string): Promise<boolean>;
  removeMarker(name: string): Promise<void>;
  /** A marker's age; undefined when the store cannot tell, null when it is gone. */
  markerAge(name: string): Promise<number | undefined | null>;
  /** After taking the lock: remove what crashed lock-takers left (optional). */
  sweep?(staleMs: number): Promise<void>;
}

export function lockId(content: string): string {
  return createHash('sha256').update(content).digest('hex').slice(0, 24);
}

const MAX_MARKERS = 20;

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Ages measured on this side, for stores that cannot tell: since this process first saw `key`. */
class FirstSeen {
  private readonly seen = new Map<string, number>();
  age(key: string, known: number | undefined): number {
    if (known !== undefined) return known;
    const first = this.seen.get(key) ?? Date.now();
    this.seen.set(key, first);
    return Date.now() - first;
  }
}

/** True when the lock may be free now (broken here, or by the breaker that just finished). */
async function breakStale(store: LockStore, held: HeldLock, age: number, options: LockOptions, seen: FirstSeen): Promise<boolean> {
  for (let k = 1; k <= MAX_MARKERS; k++) {
    const marker = `break-${held.id}.${k}`;
    if (await store.createMarker(marker)) {
      try {
        const now = await store.inspect();
        if (now && now.id === held.id) {
          await store.remove();
          options.log?.(`broke a stale index lock (${Math.round(age / 1000)} s old) at ${store.where}`);
        }
      } finally {
        await store.removeMarker(marker).catch(() => undefined);
      }
      return true;
    }
    const markerAge = await store.markerAge(marker);
    if (markerAge === null) return true; // its breaker finished: look at the lock again
    if (seen.age(`marker ${marker}`, markerAge) <= options.staleMs) return false; // being broken right now
    // That breaker died mid-way: the next marker.
  }
  throw new UserError(`cannot break the stale index lock at ${store.where}: ${MAX_MARKERS} publishers died while breaking it; ${store.stuckAdvice}`);
}

/** Take the lock; the returned function releases it (only if it is still ours). */
export async function acquireLock(store: LockStore, owner: string, options: LockOptions): Promise<Unlock> {
  const content = `${randomBytes(12).toString('hex')} ${owner.replace(/\s+/g, ' ')}\n`;
  const seen = new FirstSeen();
  const started = Date.now();
  let delay = 20;
  let told = false;
  for (;;) {
    if (await store.create(content)) break;
    const held = await store.inspect();
    if (held === null) continue; // released meanwhile: try again at once
    const age = seen.age(`lock ${held.id}`, held.ageMs);
    if (age > options.staleMs && await breakStale(store, held, age, options, seen)) continue;
    if (Date.now() - started > options.waitMs) {
      throw new UserError(`the repository index at ${store.where} stayed locked for ${Math.round(options.waitMs / 1000)} s by another publisher; if none is running, ${store.stuckAdvice}`);
    }
    if (!told) {
      options.log?.(`waiting for another publisher's index lock at ${store.where}`);
      told = true;
    }
    await wait(delay);
    delay = Math.min(delay * 2, 500);
  }
  await store.sweep?.(options.staleMs).catch(() => undefined);
  // The heartbeat: four times per stale period, so a live holder never looks crashed.
  const beat = setInterval(() => { void store.touch(content).catch(() => undefined); }, Math.max(Math.floor(options.staleMs / 4), 10));
  beat.unref();
  return async () => {
    clearInterval(beat);
    const held = await store.inspect().catch(() => null);
    if (held?.content === content) await store.remove();
  };
}
