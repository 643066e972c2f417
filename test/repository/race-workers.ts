// Start N race-worker processes (tsx loaded once each) and send them commands together.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../helpers/cli.js';

export interface WorkerAnswer { id: number; ok: boolean; outcome?: string; error?: string; exitCode?: number; logs: string[] }

export interface Workers {
  /** Send each worker its command at once (one write each); resolves with all answers, in worker order. */
  all(commands: Array<Record<string, unknown>>): Promise<WorkerAnswer[]>;
  stop(): Promise<void>;
}

export function startWorkers(n: number, env: Record<string, string | undefined> = {}): Workers {
  let next = 1;
  const waiting = new Map<number, (a: WorkerAnswer) => void>();
  const children: ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'test', 'repository', 'race-worker.ts')], {
      cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'],
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const answer = JSON.parse(line) as WorkerAnswer;
      waiting.get(answer.id)?.(answer);
      waiting.delete(answer.id);
    });
    children.push(child);
  }
  return {
    all(commands) {
      return Promise.all(commands.map((command, i) => new Promise<WorkerAnswer>((resolve) => {
        const id = next++;
        waiting.set(id, resolve);
        children[i]!.stdin!.write(`${JSON.stringify({ ...command, id })}\n`);
      })));
    },
    async stop() {
      await Promise.all(children.map((c) => new Promise<void>((resolve) => {
        if (c.exitCode !== null) { resolve(); return; }
        c.once('exit', () => resolve());
        c.stdin!.end();
      })));
    },
  };
}
