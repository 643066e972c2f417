// Run the real CLI (TypeScript sources through tsx) as a child process, the way a user does.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(PROJECT_ROOT, 'pipeline', 'cli', 'main.ts');

export interface CliResult { code: number; stdout: string; stderr: string; signal: NodeJS.Signals | null }

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  input?: string;
  /** Called with the child once spawned (e.g. to send SIGINT when some output appears). */
  onSpawn?: (child: import('node:child_process').ChildProcess) => void;
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: options.cwd ?? PROJECT_ROOT,
      // listr2's colour library takes any FORCE_COLOR as "on"; NO_COLOR turns colour off.
      env: { ...process.env, CI: 'true', FORCE_COLOR: undefined, NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? 128, stdout, stderr, signal }));
    if (options.input !== undefined) child.stdin.end(options.input); else child.stdin.end();
    options.onSpawn?.(child);
  });
}
