// check: bring the export home into `<output>/.<pot>_<tag>.partial`, verifying
// every file and the Skein-1024 digest on arrival, then move the files to their
// final names. Its cleanup removes the arrival folder and, after a failure,
// every artifact this build wrote under a final name.
import { basename } from 'node:path';
import { bringHome, type ExportFiles } from '../builder/bring-home.js';
import { wherePrefix } from '../builder/plan-host.js';
import { formatBytes } from './host-checks.js';
import { exportFiles } from '../pot/export.js';
import { shellQuote } from '../runner/shell-quote.js';
import { removeWritten, type BuildStep } from './context.js';
import { arrivalDirFor, exportDirFor } from './export-step.js';

export { validMeta, validSkeinFile } from '../builder/bring-home.js';

export function checkTask(): BuildStep {
  return {
    title: 'check',
    task: async (ctx, task) => {
      const d = ctx.definition;
      const builder = ctx.runner;
      const from: ExportFiles = exportFiles(exportDirFor(ctx), d.potName, d.tag);
      const dir = arrivalDirFor(ctx);
      const to: ExportFiles = exportFiles(dir, d.potName, d.tag);
      task.title = `check: bring ${basename(from.xz)} home${builder.where ? ` from ${builder.where}` : ''} and verify its Skein-1024`;
      await ctx.home.makeDir(dir);
      ctx.arrivalDir = dir;
      let shown = 0;
      const line = `${wherePrefix(builder.where)}cat ${shellQuote(from.xz)} ${shellQuote(from.meta)} ${shellQuote(from.skein)} > ${shellQuote(dir)}/   # Skein-1024 of .xz + .meta computed on arrival, compared with .skein`;
      const result = await ctx.home.inProcess(line, () => bringHome(builder, from, to, (received, total) => {
        if (received - shown < 64 * 1024 * 1024 && received !== total) return;
        shown = received;
        task.output = `${formatBytes(received)} of ${formatBytes(total)} (${Math.floor((received / total) * 100)}%)`;
      }));
      if (result) {
        task.output = `skein1024 ${result.digest.slice(0, 16)}… verified on arrival`;
        ctx.summary.digest = { algorithm: 'skein1024', hex: result.digest };
      }
      // The .skein last: a reader that sees it finds the image complete.
      const moves: Array<[string, string]> = [[to.xz, ctx.artifacts.xz], [to.meta, ctx.artifacts.meta], [to.skein, ctx.artifacts.skein]];
      for (const [a, b] of moves) {
        await ctx.home.rename(a, b);
        ctx.written.push(b);
      }
      await ctx.home.remove(dir);
      ctx.arrivalDir = undefined;
      if (result) {
        ctx.summary.artifacts = Object.fromEntries((['xz', 'meta', 'skein'] as const).map((k) => [k, { path: ctx.artifacts[k], size: result.sizes[k] }]));
      }
    },
    cleanup: async (ctx, { home, failed }) => {
      const done: string[] = [];
      if (ctx.arrivalDir) {
        await home.remove(ctx.arrivalDir);
        ctx.arrivalDir = undefined;
        done.push('removed the partial arrival');
      }
      const removed = failed ? await removeWritten(ctx, home, [ctx.artifacts.xz, ctx.artifacts.meta, ctx.artifacts.skein]) : 0;
      if (removed) done.push(`removed ${removed} unfinished artifact file(s)`);
      return done.join(', ') || undefined;
    },
  };
}
