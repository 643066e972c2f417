// Wraps the build's runner so Ctrl-C/SIGTERM stops the build: the running
// command is killed and every later command fails at once, while cleanup keeps
// using the wrapped runner (it must still be able to destroy the pot).
import { UserError } from '../errors.js';
import type { CommandRunner, RunOptions, RunResult } from './types.js';

export class InterruptibleRunner implements CommandRunner {
  private reason: string | undefined;

  constructor(readonly inner: CommandRunner) {}

  get interrupted(): string | undefined {
    return this.reason;
  }

  /** Stop now: kill what runs, refuse what comes. */
  interrupt(reason: string): void {
    this.reason ??= reason;
    this.inner.abort();
  }

  async run(command: string, args: string[], options?: RunOptions): Promise<RunResult> {
    if (this.reason) throw new UserError(`interrupted by ${this.reason}`, 130);
    const result = await this.inner.run(command, args, options);
    if (this.reason) throw new UserError(`interrupted by ${this.reason}`, 130);
    return result;
  }

  abort(): void {
    this.inner.abort();
  }
}
