#!/usr/bin/env node
// pot-image: the command line of the image pipeline. Parses the sub-command,
// runs it, and holds every command to one contract (./contract.ts): exit codes,
// option names, --help/--verbose/--json, one-line errors, SIGINT/SIGTERM.
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { commandNames, loadCommand } from './commands/index.js';
import { EXIT, renameDeprecated, signalExitCode } from './contract.js';
import { UserError, oneLine } from '../errors.js';
import { jsonWasPrinted, printJson, type Command, type ParsedArgs } from './command.js';

/** The program's version: package.json's, found above this file (sources and dist/ alike). */
export function programVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.version) return pkg.version;
    } catch { /* not here: look further up */ }
    const up = dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}

async function help(): Promise<string> {
  const lines = [
    'usage: pot-image <command> [options]',
    '       pot-image help <command>     (the same as pot-image <command> --help)',
    '       pot-image --version',
    '',
    'commands:',
  ];
  for (const name of commandNames) {
    const cmd = await loadCommand(name);
    lines.push(`  ${name.padEnd(14)} ${cmd?.summary ?? ''}`);
  }
  lines.push('', 'Every command takes --help and --verbose; those that produce a result take --json.',
    'Exit codes: 0 done, 1 the work failed, 2 bad input, 130 interrupted (SIGINT), 143 stopped (SIGTERM).');
  return lines.join('\n');
}

/** The command's own usage plus the options every command has. */
export function usageOf(command: Command): string {
  const common = [
    '',
    'options of every command:',
    ...(command.json ? ['  --json       print the result as JSON on standard output (progress and errors go to standard error)'] : []),
    '  --verbose    stream every command\'s output and add stack traces to errors',
    '  --help       this help (also: pot-image help ' + command.name + ')',
  ];
  return `${command.usage}\n${common.join('\n')}`;
}

export async function main(argv: string[]): Promise<number> {
  jsonWasPrinted(true);
  const verbose = argv.includes('--verbose') || process.env.POT_IMAGE_VERBOSE === '1';
  const json = argv.includes('--json');
  let name: string | undefined;
  let caught: NodeJS.Signals | undefined;
  let onSignal: ((signal: NodeJS.Signals) => void) | undefined;
  try {
    const [first, ...rest] = argv;
    name = first;
    if (first === '--version' || first === '-V') {
      console.log(`pot-image ${programVersion()}`);
      return EXIT.done;
    }
    if (!first || first === 'help' || first === '--help' || first === '-h') {
      const topic = first === 'help' ? rest[0] : undefined;
      if (topic !== undefined) {
        const command = await loadCommand(topic);
        if (!command) throw new UserError(`unknown command '${topic}': run 'pot-image help' to list the commands`, EXIT.badInput);
        console.log(usageOf(command));
        return EXIT.done;
      }
      console.log(await help());
      return first ? EXIT.done : EXIT.badInput;
    }
    const command = await loadCommand(first);
    if (!command) {
      throw new UserError(`unknown command '${first}': run 'pot-image help' to list the commands`, EXIT.badInput);
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(usageOf(command));
      return EXIT.done;
    }
    const renamed = renameDeprecated(rest, (line) => console.error(`pot-image: warning: ${line}`));
    let parsed;
    try {
      parsed = parseArgs({
        args: renamed,
        options: { ...command.options, verbose: { type: 'boolean' }, ...(command.json ? { json: { type: 'boolean' } } : {}) },
        allowPositionals: command.allowPositionals ?? false,
        strict: true,
      });
    } catch (error) {
      const hint = json && !command.json ? `${first} has no --json (it prints no result)` : oneLine(error);
      throw new UserError(`${first}: ${hint}; run 'pot-image ${first} --help' for its options`, EXIT.badInput);
    }

    // SIGINT/SIGTERM: a command that cleans up is told through args.signal and ends itself
    // (a second signal, after a grace period, ends the process at once); any other ends now.
    const controller = new AbortController();
    let firstAt = 0;
    onSignal = (signal) => {
      if (caught) {
        // Under `npm run`, one Ctrl-C arrives twice (terminal and npm): only a later one is a second.
        if (Date.now() - firstAt < 2000) return;
        console.error(`pot-image: ${first}: ${signal} again, exiting at once without cleaning up`);
        process.exit(signalExitCode(signal));
      }
      caught = signal;
      firstAt = Date.now();
      controller.abort(signal);
      if (!command.cleansUpOnSignal) {
        console.error(`pot-image: ${first}: interrupted by ${signal}; nothing was written`);
        process.exit(signalExitCode(signal));
      }
      console.error(`note: ${first}: ${signal} received: stopping and cleaning up (send it again after 2 s to quit at once)`);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (verbose) console.error(`pot-image ${programVersion()}: running ${first} (pid ${process.pid})`);

    const args: ParsedArgs = {
      values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals, verbose,
      json: parsed.values.json === true, signal: controller.signal,
    };
    const code = await command.run(args);
    if (caught) {
      console.error(`pot-image: ${first}: interrupted by ${caught}`);
      return signalExitCode(caught);
    }
    return code;
  } catch (error) {
    let code = error instanceof UserError ? error.exitCode : EXIT.failed;
    let message = oneLine(error);
    if (caught) {
      code = signalExitCode(caught);
      if (!message.includes(caught)) message = `interrupted by ${caught}: ${message}`;
    }
    if (verbose && error instanceof Error && error.stack) console.error(error.stack);
    console.error(`pot-image: ${message}`);
    if (json && !jsonWasPrinted()) printJson({ ok: false, command: name, exitCode: code, error: message });
    return code;
  } finally {
    if (onSignal) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
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
    // After a signal, end now: a read still blocked (a FIFO, a stalled mount) must not keep us.
    (code) => { if (code === EXIT.interrupted || code === EXIT.terminated) process.exit(code); process.exitCode = code; },
    (error) => { console.error(`pot-image: ${oneLine(error)}`); process.exitCode = EXIT.failed; },
  );
}
