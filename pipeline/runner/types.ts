/** Every external command of the pipeline goes through a CommandRunner, so it
 *  is logged, redacted, and swappable (tests, dry-run plan, a remote builder). */
export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** This machine's environment variables the child must not get (ExecaRunner). */
  dropEnv?: readonly string[];
  /** Text fed to stdin. */
  input?: string;
  /** Stream output lines to this callback as they arrive (listr2 task output). */
  onLine?: (line: string) => void;
  /** Do not throw on a non-zero exit; the caller inspects exitCode. */
  allowFailure?: boolean;
  /** Milliseconds before the command is killed. */
  timeoutMs?: number;
  /** Values to blank out of the log and of any error message (passwords, secrets). */
  secrets?: string[];
  /** What this command is for, used in the error message when it fails ("create the pot"). */
  purpose?: string;
  /** How the command is shown in the log and in errors, when not as its argv (a remote command run through ssh). */
  display?: string;
}

export interface RunResult {
  command: string;
  args: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** Recorded by the --dry-run plan, not run: the output is unknown. */
  planned?: boolean;
}

export interface CommandRunner {
  run(command: string, args: string[], options?: RunOptions): Promise<RunResult>;
  /** Kill every command still running (Ctrl-C). */
  abort(): void;
}
