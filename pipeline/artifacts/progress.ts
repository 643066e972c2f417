// Progress of a long transfer (upload, download, consumer check): bytes, total,
// rate and time left. On a terminal one line redrawn a few times a second; in a
// log (not a terminal, or CI) plain lines, only once a transfer has run a while
// (short transfers stay quiet), at each quarter or every 10 s, and a last line.

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** 75 → "1:15", 3725 → "1:02:05". */
function formatSeconds(total: number): string {
  const s = Math.max(0, Math.round(total));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export interface ProgressLine {
  update(received: number, total: number | undefined): void;
  done(): void;
}

export interface ProgressOptions {
  /** Redraw interval on a terminal. */
  intervalMs?: number;
  /** In plain mode, say nothing before this much time has passed. */
  quietMs?: number;
  /** In plain mode without a known total, one line this often. */
  everyMs?: number;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

export function isInteractive(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !(env.CI === 'true' || env.CI === '1') && env.TERM !== 'dumb';
}

export function progressLine(label: string, stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr, options: ProgressOptions = {}): ProgressLine {
  const now = options.now ?? Date.now;
  const tty = isInteractive(stream, options.env);
  const started = now();
  let last = { received: 0, total: undefined as number | undefined };
  let lastDraw = 0;
  let drawn = false;
  let quarter = 0;
  let lastPlain = started;

  const figures = (): { rate: number; left?: number } => {
    const seconds = Math.max((now() - started) / 1000, 0.001);
    const rate = last.received / seconds;
    const left = last.total && rate > 0 ? (last.total - last.received) / rate : undefined;
    return { rate, ...(left !== undefined ? { left } : {}) };
  };
  const drawTty = (): void => {
    const { rate, left } = figures();
    const width = 24;
    let text: string;
    if (last.total) {
      const fraction = Math.min(last.received / last.total, 1);
      const filled = Math.round(fraction * width);
      text = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${formatBytes(last.received)} / ${formatBytes(last.total)} `
        + `${(fraction * 100).toFixed(0)}% ${formatBytes(rate)}/s${left !== undefined ? ` ${formatSeconds(left)} left` : ''}`;
    } else {
      text = `${label} ${formatBytes(last.received)} ${formatBytes(rate)}/s`;
    }
    stream.write(`\r\x1b[2K${text}`);
    drawn = true;
  };
  const plainLine = (): void => {
    const { rate, left } = figures();
    const of = last.total ? ` / ${formatBytes(last.total)} (${Math.floor((last.received / last.total) * 100)}%)` : '';
    stream.write(`${label}: ${formatBytes(last.received)}${of}, ${formatBytes(rate)}/s${left !== undefined ? `, ${formatSeconds(left)} left` : ''}\n`);
    drawn = true;
    lastPlain = now();
  };

  return {
    update(received, total) {
      last = { received, total };
      const t = now();
      if (tty) {
        if (t - lastDraw >= (options.intervalMs ?? 200)) {
          lastDraw = t;
          drawTty();
        }
        return;
      }
      if (t - started < (options.quietMs ?? 2000)) return;
      if (total) {
        const q = Math.floor((received / total) * 4);
        if (q > quarter && q < 4) {
          quarter = q;
          plainLine();
        }
      } else if (t - lastPlain >= (options.everyMs ?? 10_000)) {
        plainLine();
      }
    },
    done() {
      if (!drawn) return;
      if (tty) {
        drawTty();
        stream.write('\n');
        return;
      }
      const seconds = (now() - started) / 1000;
      stream.write(`${label}: ${formatBytes(last.received)} in ${formatSeconds(seconds)} (${formatBytes(last.received / Math.max(seconds, 0.001))}/s)\n`);
    },
  };
}

export { formatBytes, formatSeconds };
