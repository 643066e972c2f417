// check: pot export can exit 0 without its files (its meta/skein/signify
// failures delete them silently), so verify every file before trusting it,
// then move them to their final names.
import { existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { ListrTask } from 'listr2';
import { UserError } from '../errors.js';
import { exportFiles } from '../pot/export.js';
import { shellQuote } from '../runner/shell-quote.js';
import type { BuildContext } from './context.js';

/** `-` (standalone image) or `ORIGIN_POT:ORIGIN_TAG@ORIGIN_SNAP` (layered), one line. */
export function validMeta(text: string): boolean {
  const line = text.replace(/\n$/, '');
  return line === '-' || /^[^\s:@]+:[^\s:@]+@[^\s:@]+$/.test(line);
}

/** 256 lowercase hex digits and a newline, what `skein1024 -q` prints. */
export function validSkeinFile(text: string): boolean {
  return /^[0-9a-f]{256}\n?$/.test(text);
}

type Digest = (data: Buffer) => string;

/** The Skein-1024 implementation, when its module is there (loaded lazily: it lives in another area). */
async function loadSkein(): Promise<Digest | undefined> {
  const path = '../artifacts/skein1024.js';
  try {
    const mod = (await import(path)) as { skein1024Hex?: Digest };
    return typeof mod.skein1024Hex === 'function' ? mod.skein1024Hex : undefined;
  } catch {
    return undefined;
  }
}

/** Throws a one-line UserError naming the first missing, empty or malformed file. */
export async function checkExport(dir: string, pot: string, tag: string): Promise<{ digest: string; verified: boolean }> {
  const files = exportFiles(dir, pot, tag);
  for (const path of [files.xz, files.meta, files.skein]) {
    if (!existsSync(path)) {
      throw new UserError(`pot export exited 0 but did not write ${basename(path)}; see the build log`);
    }
    if (statSync(path).size === 0) throw new UserError(`pot export wrote an empty ${basename(path)}; see the build log`);
  }
  const meta = readFileSync(files.meta, 'utf8');
  if (!validMeta(meta)) throw new UserError(`${basename(files.meta)} holds '${meta.trim().slice(0, 60)}', not '-' or ORIGIN:TAG@SNAP`);
  const skein = readFileSync(files.skein, 'utf8');
  if (!validSkeinFile(skein)) throw new UserError(`${basename(files.skein)} is not a Skein-1024 digest (256 hex digits)`);
  const digest = skein.trim();
  const skein1024 = await loadSkein();
  if (!skein1024) return { digest, verified: false };
  const actual = skein1024(Buffer.concat([readFileSync(files.xz), readFileSync(files.meta)]));
  if (actual !== digest) throw new UserError(`${basename(files.skein)} does not match the Skein-1024 of ${basename(files.xz)} + .meta: the export is corrupt`);
  return { digest, verified: true };
}

export function checkTask(): ListrTask<BuildContext> {
  return {
    title: 'check',
    task: async (ctx, task) => {
      const d = ctx.definition;
      const dir = ctx.stagingDir!;
      const staged = exportFiles(dir, d.potName, d.tag);
      const moves: Array<[string, string]> = [[staged.xz, ctx.artifacts.xz], [staged.meta, ctx.artifacts.meta], [staged.skein, ctx.artifacts.skein]];
      if (ctx.options.dryRun) {
        for (const [from] of moves) ctx.note(`test -s ${shellQuote(from)}`);
        for (const [from, to] of moves) ctx.note(`mv ${shellQuote(from)} ${shellQuote(to)}`);
        ctx.note(`rmdir ${shellQuote(dir)}`);
        ctx.stagingDir = undefined;
        return;
      }
      const { digest, verified } = await checkExport(dir, d.potName, d.tag);
      task.output = verified ? `skein1024 ${digest.slice(0, 16)}… verified` : `skein1024 ${digest.slice(0, 16)}… (format checked)`;
      // The .skein last: a reader that sees it finds the image complete.
      for (const [from, to] of moves) renameSync(from, to);
      rmSync(dir, { recursive: true, force: true });
      ctx.stagingDir = undefined;
      ctx.summary.digest = { algorithm: 'skein1024', hex: digest, verified };
      ctx.summary.artifacts = Object.fromEntries(
        (['xz', 'meta', 'skein'] as const).map((k) => [k, { path: ctx.artifacts[k], size: statSync(ctx.artifacts[k]).size }]),
      );
    },
  };
}
