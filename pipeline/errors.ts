// Errors the user can act on. The CLI prints `message` as one line (no stack
// unless --verbose) and exits with `exitCode`.
//   exit 2: bad input (usage, image definition, arguments) — nothing was done
//   exit 1: the work itself failed (build, verify, publish)

export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}

/** Bad input: the message names the field/argument, the bad value and what is allowed. */
export class InputError extends UserError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'InputError';
  }
}

/** Collapse any thrown value into one printable line. */
export function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s*\n\s*/g, ' | ').trim();
}
