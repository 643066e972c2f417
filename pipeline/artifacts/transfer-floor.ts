// A minimum-throughput floor for one transfer. An inactivity timeout alone lets a
// server that sends one byte a second hold a client forever; this ends any transfer
// that moves less than MIN_BYTES_PER_SECOND, averaged over each window (the
// --timeout), or less than what is left of it when that is smaller. Before the
// first byte of the answer, the whole window is the deadline for the headers.

/** 16 KiB/s: a floor against tricklers, far below any link an image is fetched over. */
export const MIN_BYTES_PER_SECOND = 16 * 1024;

export class TransferFloor {
  private moved = 0;
  private inWindow = 0;
  private started = false;
  private total: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  /** `fail` is called at most once, with a one-line reason; the caller aborts the transfer. */
  constructor(private readonly windowMs: number, private readonly fail: (reason: string) => void, private readonly minBytesPerSecond = MIN_BYTES_PER_SECOND) {}

  /** Start the clock once the request exists (creating one can throw: then nothing is left ticking). */
  start(): void {
    this.timer ??= setInterval(() => this.check(), this.windowMs);
  }

  /** Bytes start to move (the answer's headers arrived, or an upload starts); `total` is their length when known. */
  begin(total?: number): void {
    this.started = true;
    this.total = total;
    this.inWindow = 0;
  }

  /** Nothing more to send: the next window is the deadline for the answer's headers. */
  awaitAnswer(): void {
    this.started = false;
    this.inWindow = 0;
  }

  add(bytes: number): void {
    this.moved += bytes;
    this.inWindow += bytes;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private check(): void {
    const seconds = this.windowMs / 1000;
    const shown = Number(seconds.toFixed(2));
    if (!this.started) {
      this.stop();
      this.fail(`no answer within ${shown} s`);
      return;
    }
    const floor = Math.ceil(this.minBytesPerSecond * seconds);
    const left = this.total === undefined ? floor : Math.max(0, this.total - this.moved);
    if (this.inWindow < Math.min(floor, left)) {
      this.stop();
      this.fail(`too slow: ${this.inWindow} bytes in ${shown} s, below the floor of ${this.minBytesPerSecond / 1024} KiB/s`);
      return;
    }
    this.inWindow = 0;
  }
}
