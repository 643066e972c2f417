// create and snapshot: the pot itself, built from the flavour chain.
import type { ListrTask } from 'listr2';
import { potCreate } from '../pot/create.js';
import { potSnapshot } from '../pot/snapshot.js';
import type { BuildContext } from './context.js';

/** fbsd-update (and any other stock flavour) first, then X, X+1..X+3 that exist, X+4 last. */
export function flavourOrder(ctx: BuildContext): string[] {
  return [...ctx.definition.flavours.before, ...ctx.definition.flavours.chain];
}

export function createTask(): ListrTask<BuildContext> {
  return {
    title: 'create',
    task: async (ctx, task) => {
      const d = ctx.definition;
      task.title = `create pot ${d.potName} (FreeBSD ${d.freebsd.potRelease})`;
      // From here on cleanup must look for the pot: a killed create can leave half of it behind.
      ctx.potCreated = true;
      await potCreate(ctx.runner, {
        name: d.potName,
        release: d.freebsd.potRelease,
        network: d.pot.network,
        flavours: flavourOrder(ctx),
      }, { onLine: (line) => { task.output = line; } });
    },
  };
}

export function snapshotTask(): ListrTask<BuildContext> {
  return {
    title: 'snapshot',
    task: async (ctx, task) => {
      await potSnapshot(ctx.runner, ctx.definition.potName, { onLine: (line) => { task.output = line; } });
    },
  };
}
