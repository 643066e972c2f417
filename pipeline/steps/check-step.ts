// check: pot export can exit 0 without its files (its meta/skein/signify
// failures delete them silently), so verify every file and the digest before
// trusting it, then move them to their final names.
import { existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { ListrTask } from 'listr2';
import { digestImageFiles } from '../artifacts/image-digest.js';
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

/** Throws a one-line UserError naming the first missing, empty or malformed file. */
export async function checkExport(dir: string, pot: string, tag: string): Promise<{ digest: string }> {
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
  const actual = await digestImageFiles(files.xz, files.meta);
  if (actual !== digest) throw new UserError(`${basename(files.skein)} does not match the Skein-1024 of ${basename(files.xz)} + .meta: the export is corrupt`);
  return { digest };
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
      const { digest } = await checkExport(dir, d.potName, d.tag);
      task.output = `skein1024 ${digest.slice(0, 16)}… verified`;
      // The .skein last: a reader that sees it finds the image complete.
      for (const [from, to] of moves) renameSync(from, to);
      rmSync(dir, { recursive: true, force: true });
      ctx.stagingDir = undefined;
      ctx.summary.digest = { algorithm: 'skein1024', hex: digest };
      ctx.summary.artifacts = Object.fromEntries(
        (['xz', 'meta', 'skein'] as const).map((k) => [k, { path: ctx.artifacts[k], size: statSync(ctx.artifacts[k]).size }]),
      );
    },
  };
}
