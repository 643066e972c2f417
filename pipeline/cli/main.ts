#!/usr/bin/env node
// pot-image: the command line of the image pipeline. Parses the sub-command,
// runs it, and turns every error into one line and an exit code.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { commandNames, loadCommand } from './commands/index.js';
import { UserError, oneLine } from '../errors.js';
import type { ParsedArgs } from './command.js';

async function help(): Promise<string> {
  const lines = ['usage: pot-image <command> [options]   (pot-image <command> --help for its options)', '', 'commands:'];
  for (const name of commandNames) {
    const cmd = await loadCommand(name);
    lines.push(`  ${name.padEnd(14)} ${cmd?.summary ?? ''}`);
  }
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose') || process.env.POT_IMAGE_VERBOSE === '1';
  try {
    const [name, ...rest] = argv;
    if (!name || name === 'help' || name === '--help' || name === '-h') {
      console.log(await help());
      return name ? 0 : 2;
    }
    const command = await loadCommand(name);
    if (!command) {
      throw new UserError(`unknown command '${name}': run 'pot-image help' to list the commands`, 2);
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(command.usage);
      return 0;
    }
    let parsed;
    try {
      parsed = parseArgs({
        args: rest,
        options: { ...command.options, verbose: { type: 'boolean' } },
        allowPositionals: command.allowPositionals ?? false,
        strict: true,
      });
    } catch (error) {
      throw new UserError(`${name}: ${oneLine(error)}; run 'pot-image ${name} --help' for its options`, 2);
    }
    const args: ParsedArgs = { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals, verbose };
    return await command.run(args);
  } catch (error) {
    const code = error instanceof UserError ? error.exitCode : 1;
    if (verbose && error instanceof Error && error.stack) {
      console.error(error.stack);
    }
    console.error(`pot-image: ${oneLine(error)}`);
    return code;
  }
}

// Run only when executed directly (tests import main()); through npm's bin link too.
function invokedDirectly(): boolean {
  const invoked = process.argv[1];
  if (!invoked) return false;
  try {
    return realpathSync(invoked) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}
if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (error) => { console.error(`pot-image: ${oneLine(error)}`); process.exitCode = 1; },
  );
}
