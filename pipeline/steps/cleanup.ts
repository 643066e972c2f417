// cleanup: runs after the build whatever happened (failure, Ctrl-C): destroys
// the build pot unless --keep, and after a failure removes everything the build
// wrote under an artifact name, so no half-written image is ever left behind.
import { existsSync, rmSync } from 'node:fs';
import type { ListrTask } from 'listr2';
import { potDestroy } from '../pot/destroy.js';
import { potExists } from '../pot/info.js';
import type { CommandRunner } from '../runner/types.js';
import { shellQuote } from '../runner/shell-quote.js';
import type { BuildContext } from './context.js';

/** Paths a failed build removes (those that existed before it started are left alone). */
export function failedBuildLeftovers(ctx: BuildContext): string[] {
  const a = ctx.artifacts;
  const keep = new Set(ctx.preexisting ?? []);
  return [a.xz, a.meta, a.skein, a.sig, a.packages, a.summary].filter((p) => !keep.has(p));
}

/** `runner` is the un-interrupted one: cleanup must still work after Ctrl-C. */
export function cleanupTask(runner: CommandRunner, failed: () => boolean): ListrTask<BuildContext> {
  return {
    title: 'cleanup',
    task: async (ctx, task) => {
      const d = ctx.definition;
      const done: string[] = [];
      if (ctx.potCreated) {
        if (ctx.options.keep) {
          ctx.warnings.push(`kept the build pot ${d.potName} (--keep); remove it with: pot destroy -F -p ${d.potName}`);
          done.push(`kept ${d.potName}`);
        } else if (ctx.options.dryRun || (await potExists(runner, d.potName))) {
          await potDestroy(runner, d.potName, true, { purpose: `destroy the build pot ${d.potName}` });
          done.push(ctx.options.dryRun ? `would destroy ${d.potName}` : `destroyed ${d.potName}`);
        } else {
          // A create stopped half-way can leave a dataset without a configuration: `pot info`
          // does not see it, but `pot destroy -F` removes it (and fails harmlessly when nothing is there).
          const r = await potDestroy(runner, d.potName, true, { allowFailure: true });
          if (r.exitCode === 0) done.push(`destroyed the half-created ${d.potName}`);
        }
      }
      if (ctx.stagingDir) {
        if (ctx.options.dryRun) ctx.note(`rm -rf ${shellQuote(ctx.stagingDir)}`);
        else if (existsSync(ctx.stagingDir)) {
          rmSync(ctx.stagingDir, { recursive: true, force: true });
          done.push('removed the partial export');
        }
      }
      if (failed() && !ctx.options.dryRun) {
        const removed = failedBuildLeftovers(ctx).filter((p) => existsSync(p));
        for (const p of removed) rmSync(p, { force: true });
        if (removed.length) done.push(`removed ${removed.length} unfinished artifact file(s)`);
      }
      task.output = done.join(', ') || 'nothing to clean up';
    },
  };
}
