import type { CommandRunner, RunOptions, RunResult } from '../runner/types.js';
import { runPot } from './command.js';

export interface ExportOptions {
  name: string;
  tag: string;
  /** xz level 0-9 (-l). */
  level: number;
  /** Folder the files are written to (-D); must exist. */
  dir: string;
  /**
   * -c: pot compares the tag with the `:pot.tag` property of this pot's own
   * dataset, which a freshly created build pot never has, so for the build it
   * refuses nothing. What stops a release going backwards is the repository's
   * order check at publish time (--allow-older), not this flag.
   */
  checkTag?: boolean;
  /** signify secret key: pot signs the .skein itself (-S). */
  signKey?: string;
}

/** `pot export -p NAME -t TAG -c -l LEVEL -D DIR [-S KEY]` */
export function exportArgs(o: ExportOptions): string[] {
  const args = ['export', '-p', o.name, '-t', o.tag];
  if (o.checkTag ?? true) args.push('-c');
  args.push('-l', String(o.level), '-D', o.dir);
  if (o.signKey) args.push('-S', o.signKey);
  return args;
}

/** The files pot export writes: DIR/NAME_TAG.xz, .xz.meta, .xz.skein (+ .xz.skein.sig with -S). */
export function exportFiles(dir: string, name: string, tag: string, signed = false): { xz: string; meta: string; skein: string; sig?: string } {
  const xz = `${dir}/${name}_${tag}.xz`;
  return { xz, meta: `${xz}.meta`, skein: `${xz}.skein`, ...(signed ? { sig: `${xz}.skein.sig` } : {}) };
}

export function potExport(runner: CommandRunner, o: ExportOptions, options: RunOptions = {}): Promise<RunResult> {
  return runPot(runner, exportArgs(o), { purpose: `export the pot ${o.name}`, ...options });
}
