import type { Command } from '../command.js';
import { printJson } from '../command.js';
import { cliPath, requireFile } from '../inputs.js';
import { InputError } from '../../errors.js';
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

const command: Command = {
  name: 'hash',
  summary: 'print the Skein-1024 digest of files, like FreeBSD `skein1024 -q`',
  usage: [
    'usage: pot-image hash [--json] FILE...',
    '',
    'Prints one line per FILE: its Skein-1024-1024 digest as 256 lowercase hex digits,',
    'exactly as `skein1024 -q FILE` on FreeBSD. `-` reads standard input.',
    'An image digest (.xz.skein) is the hash of the .xz followed by the .meta:',
    '  cat F.xz F.xz.meta | pot-image hash -',
    'Every FILE is checked before any is read: a missing or unreadable one is bad input (exit 2).',
  ].join('\n'),
  options: {},
  allowPositionals: true,
  json: true,
  async run(args) {
    if (args.positionals.length === 0) throw new InputError("hash: name at least one FILE (or '-' for standard input)");
    const files = args.positionals.map((f) => (f === '-' ? f : cliPath(f)!));
    for (const file of files) if (file !== '-') await requireFile(file, 'hash:');
    const digests: Array<{ file: string; skein1024: string }> = [];
    for (const file of files) {
      const hex = file === '-' ? await digestOf(process.stdin as AsyncIterable<Buffer>) : await skein1024File(file);
      if (args.json) digests.push({ file, skein1024: hex });
      else process.stdout.write(skeinLine(hex));
    }
    if (args.json) printJson({ ok: true, digests });
    return 0;
  },
};
export default command;
