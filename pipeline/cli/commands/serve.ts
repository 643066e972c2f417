import { stat } from 'node:fs/promises';
import type { Command } from '../command.js';
import { printJson, stringArg } from '../command.js';
import { cliPath } from '../inputs.js';
import { InputError, UserError } from '../../errors.js';
import { serveRepository } from '../../repository/serve.js';

const usage = `usage: pot-image serve [--dir ./repo] [--port 8080] [--host 127.0.0.1] [--json]

Serves a folder repository read-only over HTTP (GET/HEAD, Range, Last-Modified), so Nomad
clients on the LAN can 'pot import -U http://HOST:PORT/' from it. Files whose names start with a
dot (upload temporaries, the index lock) are never served. --port 0 picks a free port.
Stops on Ctrl-C or SIGTERM (exit 130 or 143, like every command). --json prints
{"url": …, "dir": …} once it listens (--port 0 tells which port it got).`;

const command: Command = {
  name: 'serve',
  summary: 'serve a folder repository read-only over HTTP (for pot import)',
  usage,
  options: {
    dir: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
  },
  json: true,
  cleansUpOnSignal: true,
  async run(args) {
    const dir = cliPath(stringArg(args, 'dir') ?? 'repo')!;
    const portText = stringArg(args, 'port') ?? '8080';
    const host = stringArg(args, 'host') ?? '127.0.0.1';
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
      throw new InputError(`serve: --port '${portText}' is not a TCP port; use a number from 0 to 65535`);
    }
    const info = await stat(dir).catch(() => null);
    if (!info?.isDirectory()) {
      throw new InputError(`serve: --dir ${dir} is not a folder; pass --dir with the repository folder`);
    }
    let served;
    try {
      served = await serveRepository(dir, host, Number(portText));
    } catch (error) {
      throw new UserError(`serve: cannot listen on ${host}:${portText}: ${(error as Error).message}; choose another --port or --host`);
    }
    if (args.json) printJson({ ok: true, url: served.url, dir });
    else console.log(`serving ${dir} read-only at ${served.url} (Ctrl-C to stop)`);
    // Served until a signal; then the listener closes and main reports the signal (130/143).
    if (!args.signal.aborted) await new Promise((done) => args.signal.addEventListener('abort', done, { once: true }));
    await served.close();
    return 0;
  },
};
export default command;
