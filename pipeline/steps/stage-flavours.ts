// stage flavours: the chain's files travel to the builder as one tar stream
// into the build's fresh temporary folder there, then go flat into pot's
// flavour folder, where pot (and the absolute `copy-in -s` paths in our command
// files) look for them. Only the chain's own files are written: our `<name>.d/`
// is replaced whole (no stale payload survives), other flavours are untouched.
import { join } from 'node:path';
import { builderTempPrefix } from '../builder/host.js';
import { fileCount, flavourFiles, tarStream } from '../builder/staging.js';
import { shellQuote } from '../runner/shell-quote.js';
import type { BuildStep } from './context.js';
import { beforeFlavours } from './pot-steps.js';

export { flavourFiles };

/** `pot-image.<pot>.`: the builder's temporary folders of this pot's builds (preflight looks for leftovers). */
export const builderDirPrefix = builderTempPrefix;

export function stageFlavoursTask(): BuildStep {
  return {
    title: 'stage flavours',
    task: async (ctx, task) => {
      const { source, installDir, chain } = ctx.definition.flavours;
      const builder = ctx.runner;
      task.title = `stage flavours into ${installDir}${builder.where ? ` on ${builder.where}` : ''}`;
      // Flavours before the chain that the project ships itself (the end-of-life update flavour) go too.
      const own = beforeFlavours(ctx).filter((f) => flavourFiles(source, f).length > 0);
      const names = [...own, ...chain];
      const files = names.flatMap((name) => flavourFiles(source, name));
      const dir = await builder.makeTempDir(builderDirPrefix(ctx.definition.potName));
      ctx.builderDir = dir;
      await builder.writeFolder(dir, tarStream(source, files, 'flavours'), `${fileCount(files)} flavour files of ${names.join(', ')}`);
      await builder.makeDir(installDir);
      const payloads = names.filter((name) => files.some((f) => f.startsWith(`${name}.d/`)));
      for (const name of payloads) await builder.remove(join(installDir, `${name}.d`));
      const top = [...new Set(files.map((f) => f.split('/')[0]!))];
      await builder.run('cp', ['-Rp', ...top.map((t) => `${dir}/flavours/${t}`), `${installDir}/`], { purpose: `install the flavours into ${installDir}` });
      task.output = `${fileCount(files)} files staged`;
    },
    cleanup: async (ctx, { builder }) => {
      if (!ctx.builderDir) return undefined;
      await builder.remove(ctx.builderDir);
      const dir = ctx.builderDir;
      ctx.builderDir = undefined;
      return `removed ${shellQuote(dir)}${builder.where ? ` on ${builder.where}` : ''}`;
    },
  };
}
