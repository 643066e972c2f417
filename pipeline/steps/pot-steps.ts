// create and snapshot: the pot itself, built from the flavour chain. The create
// step owns the pot: its cleanup destroys it (unless --keep).
import type { ListrTask } from 'listr2';
import { potCreate } from '../pot/create.js';
import { potDestroy } from '../pot/destroy.js';
import { potExists } from '../pot/info.js';
import { potSnapshot } from '../pot/snapshot.js';
import { answered } from '../builder/host.js';
import type { BuildContext, BuildStep } from './context.js';

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

export function createTask(): BuildStep {
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
    cleanup: async (ctx, { builder }) => {
      const d = ctx.definition;
      if (!ctx.potCreated) return undefined;
      if (ctx.options.keep) {
        ctx.warnings.push(`kept the build pot ${d.potName}${builder.where ? ` on ${builder.where}` : ''} (--keep); remove it with: pot destroy -F -p ${d.potName}`);
        return `kept ${d.potName}`;
      }
      if (await potExists(builder, d.potName)) {
        const r = await potDestroy(builder, d.potName, true, { purpose: `destroy the build pot ${d.potName}` });
        return answered(r) ? `destroyed ${d.potName}` : `would destroy ${d.potName}`;
      }
      // A create stopped half-way can leave a dataset without a configuration: `pot info`
      // does not see it, but `pot destroy -F` removes it (and fails harmlessly when nothing is there).
      const r = await potDestroy(builder, d.potName, true, { allowFailure: true });
      return r.exitCode === 0 ? `destroyed the half-created ${d.potName}` : undefined;
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
