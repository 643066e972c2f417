// create and snapshot: the pot itself, built from the flavour chain.
import type { ListrTask } from 'listr2';
import { potCreate } from '../pot/create.js';
import { potSnapshot } from '../pot/snapshot.js';
import type { BuildContext } from './context.js';

/** The project's update flavour for end-of-life builds (flavours/fbsd-update-eol.sh). */
export const EOL_UPDATE_FLAVOUR = 'fbsd-update-eol';

/**
 * The flavours before the chain: the definition's (stock fbsd-update), except that an
 * end-of-life build replaces fbsd-update with the project's own update flavour: the stock
 * one stops at freebsd-update's end-of-life check and pot rolls the create back.
 */
export function beforeFlavours(ctx: BuildContext): string[] {
  const eol = ctx.lifecycle?.status === 'end-of-life' && Boolean(ctx.definition.freebsd.eolAllowance);
  return ctx.definition.flavours.before.map((f) => (eol && f === 'fbsd-update' ? EOL_UPDATE_FLAVOUR : f));
}

/** fbsd-update (and any other stock flavour) first, then X, X+1..X+3 that exist, X+4 last. */
export function flavourOrder(ctx: BuildContext): string[] {
  return [...beforeFlavours(ctx), ...ctx.definition.flavours.chain];
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
