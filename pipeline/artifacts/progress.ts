// A one-line progress display for a download on a terminal: bytes, total,
// percentage and rate, redrawn at most a few times a second.

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

export interface ProgressLine {
  update(received: number, total: number | undefined): void;
  done(): void;
}

/** Progress on `stream` when it is a TTY; a silent no-op otherwise (CI logs, pipes, --json). */
export function progressLine(label: string, stream: NodeJS.WriteStream = process.stderr, intervalMs = 200): ProgressLine {
  if (!stream.isTTY) return { update() {}, done() {} };
  const started = Date.now();
  let lastDraw = 0;
  let drawn = false;
  let last = { received: 0, total: undefined as number | undefined };
  const draw = (): void => {
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    const rate = `${formatBytes(last.received / seconds)}/s`;
    const width = 24;
    let text: string;
    if (last.total) {
      const fraction = Math.min(last.received / last.total, 1);
      const filled = Math.round(fraction * width);
      text = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${formatBytes(last.received)} / ${formatBytes(last.total)} `
        + `${(fraction * 100).toFixed(0)}% ${rate}`;
    } else {
      text = `${label} ${formatBytes(last.received)} ${rate}`;
    }
    stream.write(`\r\x1b[2K${text}`);
    drawn = true;
  };
  return {
    update(received, total) {
      last = { received, total };
      const now = Date.now();
      if (now - lastDraw >= intervalMs) {
        lastDraw = now;
        draw();
      }
    },
    done() {
      if (drawn) {
        draw();
        stream.write('\n');
      }
    },
  };
}

export { formatBytes };
