import type { ParseArgsConfig } from 'node:util';

/** One `pot-image <name>` sub-command; one file per command in ./commands (pot's own layout). */
export interface Command {
  name: string;
  /** One line shown by `pot-image help`. */
  summary: string;
  /** Usage text shown by `pot-image <name> --help`. */
  usage: string;
  /** node:util parseArgs options (without --help/--verbose, which every command gets). */
  options: NonNullable<ParseArgsConfig['options']>;
  allowPositionals?: boolean;
  /** Returns the process exit code. */
  run(args: ParsedArgs): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  verbose: boolean;
}

/** Small typed readers for parsed values. */
export function stringArg(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}
export function boolArg(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}
