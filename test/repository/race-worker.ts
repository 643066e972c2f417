// A publisher process for the race tests: reads one JSON command per line on stdin and
// answers one JSON line on stdout, so a test can start several real processes once and
// make them race round after round (released together by one write to each stdin).
//   {"id":1,"op":"count","to":URL|DIR}  take the index lock, add one to the file `counter`, release
//   {"id":2,"op":"publish","options":{...PublishOptions}}
import { createInterface } from 'node:readline';
import { openTarget, parseTarget } from '../../pipeline/repository/open-target.js';
import { publishImage } from '../../pipeline/repository/publish.js';

const out = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

async function count(to: string, logs: string[]): Promise<void> {
  const target = openTarget(parseTarget(to));
  try {
    const unlock = await target.lock(`worker ${process.pid}`, { staleMs: 60_000, waitMs: 60_000, log: (l) => logs.push(l) });
    try {
      const value = Number((await target.read('counter'))?.toString() ?? '0');
      // Give a second holder every chance to interleave.
      await new Promise((resolve) => setImmediate(resolve));
      const temp = `.counter.${process.pid}`;
      await target.uploadBytes(temp, Buffer.from(String(value + 1)));
      await target.replace(temp, 'counter');
    } finally {
      await unlock();
    }
  } finally {
    await target.close();
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as { id: number; op: string; to?: string; options?: Parameters<typeof publishImage>[0] };
  const logs: string[] = [];
  try {
    if (command.op === 'count') {
      await count(command.to!, logs);
      out({ id: command.id, ok: true, logs });
    } else {
      const result = await publishImage({ ...command.options!, log: (l) => logs.push(l) });
      out({ id: command.id, ok: true, outcome: result.outcome, logs });
    }
  } catch (error) {
    out({ id: command.id, ok: false, error: (error as Error).message, exitCode: (error as { exitCode?: number }).exitCode, logs });
  }
}
