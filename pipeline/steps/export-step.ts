// export: pot export into the build's temporary folder on the builder; the
// check step brings the files home. Nothing appears under its final name
// before it has been verified.
import type { ListrTask } from 'listr2';
import { potExport } from '../pot/export.js';
import type { BuildContext } from './context.js';

/** `<output>/.<pot>_<tag>.partial`: same file system as the output, so the final move is a rename. */
export function arrivalDirFor(ctx: BuildContext): string {
  return `${ctx.definition.export.output}/.${ctx.definition.potName}_${ctx.definition.tag}.partial`;
}

/** Where pot export writes on the builder: inside the build's temporary folder (removed by its cleanup). */
export function exportDirFor(ctx: BuildContext): string {
  return `${ctx.builderDir}/export`;
}

export function exportTask(): ListrTask<BuildContext> {
  return {
    title: 'export',
    task: async (ctx, task) => {
      const d = ctx.definition;
      const dir = exportDirFor(ctx);
      task.title = `export ${d.potName}_${d.tag}.xz (xz -${d.export.compression})`;
      await ctx.runner.makeDir(dir);
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
