// export: pot export into a staging folder beside the output, so nothing
// appears under its final name until the check step has verified it.
import { mkdirSync } from 'node:fs';
import type { ListrTask } from 'listr2';
import { potExport } from '../pot/export.js';
import { shellQuote } from '../runner/shell-quote.js';
import type { BuildContext } from './context.js';

/** `<output>/.<pot>_<tag>.partial`: same file system as the output, so the final move is a rename. */
export function stagingDirFor(ctx: BuildContext): string {
  return `${ctx.definition.export.output}/.${ctx.definition.potName}_${ctx.definition.tag}.partial`;
}

export function exportTask(): ListrTask<BuildContext> {
  return {
    title: 'export',
    task: async (ctx, task) => {
      const d = ctx.definition;
      const dir = stagingDirFor(ctx);
      ctx.stagingDir = dir;
      task.title = `export ${d.potName}_${d.tag}.xz (xz -${d.export.compression})`;
      if (ctx.options.dryRun) ctx.note(`mkdir -p ${shellQuote(dir)}`);
      else mkdirSync(dir, { recursive: true });
      await potExport(ctx.runner, {
        name: d.potName,
        tag: d.tag,
        level: d.export.compression,
        dir,
        checkTag: true,
      }, { onLine: (line) => { task.output = line; } });
    },
  };
}
