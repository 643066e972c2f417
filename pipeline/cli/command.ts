import type { ParseArgsConfig } from 'node:util';

/** One `pot-image <name>` sub-command; one file per command in ./commands (pot's own layout). */
export interface Command {
  name: string;
  /** One line shown by `pot-image help`. */
  summary: string;
  /** Usage text shown by `pot-image <name> --help` (main adds the options every command has). */
  usage: string;
  /** node:util parseArgs options (without --help/--verbose/--json, which main adds). */
  options: NonNullable<ParseArgsConfig['options']>;
  allowPositionals?: boolean;
  /** The command produces a result: it takes --json and prints it with printJson(). */
  json?: boolean;
  /**
   * The command stops its work itself on SIGINT/SIGTERM (args.signal) and cleans up;
   * otherwise main ends the process at once on the first signal (nothing to clean up).
   */
  cleansUpOnSignal?: boolean;
  /** Returns the process exit code. */
  run(args: ParsedArgs): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  verbose: boolean;
  json: boolean;
  /** Aborted on the first SIGINT/SIGTERM; its reason is the signal's name. */
  signal: AbortSignal;
}

/** Small typed readers for parsed values. */
export function stringArg(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}
export function boolArg(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

let jsonPrinted = false;

/** The command's --json result on stdout (at most one document per run). */
export function printJson(value: unknown): void {
  jsonPrinted = true;
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Whether the command printed its JSON result (main prints an error document otherwise). */
export function jsonWasPrinted(reset = false): boolean {
  const was = jsonPrinted;
  if (reset) jsonPrinted = false;
  return was;
}
