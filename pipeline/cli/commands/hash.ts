import type { Command } from '../command.js';
import { InputError, oneLine } from '../../errors.js';
import { garbagePacer } from '../../artifacts/garbage-pacer.js';
import { Skein1024, skeinLine } from '../../artifacts/skein1024.js';
import { skein1024File } from '../../artifacts/skein-file.js';

async function digestOf(source: AsyncIterable<Uint8Array>): Promise<string> {
  const skein = new Skein1024();
  const pace = garbagePacer();
  for await (const chunk of source) {
    skein.update(chunk);
    pace(chunk.length);
  }
  return skein.hexDigest();
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'EACCES') return 'permission denied';
  return oneLine(error);
}

const command: Command = {
  name: 'hash',
  summary: 'print the Skein-1024 digest of files, like FreeBSD `skein1024 -q`',
  usage: [
    'usage: pot-image hash FILE...',
    '',
    'Prints one line per FILE: its Skein-1024-1024 digest as 256 lowercase hex digits,',
    'exactly as `skein1024 -q FILE` on FreeBSD. `-` reads standard input.',
    'An image digest (.xz.skein) is the hash of the .xz followed by the .meta:',
    '  cat F.xz F.xz.meta | pot-image hash -',
  ].join('\n'),
  options: {},
  allowPositionals: true,
  async run(args) {
    if (args.positionals.length === 0) throw new InputError("hash: name at least one FILE (or '-' for standard input)");
    let failed = 0;
    for (const file of args.positionals) {
      try {
        const hex = file === '-' ? await digestOf(process.stdin as AsyncIterable<Buffer>) : await skein1024File(file);
        process.stdout.write(skeinLine(hex));
      } catch (error) {
        failed++;
        console.error(`pot-image: hash: ${file}: ${describe(error)}`);
      }
    }
    return failed > 0 ? 1 : 0;
  },
};
export default command;
