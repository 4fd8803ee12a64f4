import { setTimeout as sleep } from 'node:timers/promises';

/** When the intake counts as busy, and how long processing may wait for it. */
export interface IntakePressureOptions {
  /** The intake is busy when `busyArrivals` messages arrived within this many milliseconds. */
  windowMs: number;
  busyArrivals: number;
  /** Maximum time one message's processing waits for a busy intake, in milliseconds. */
  maxDeferMs: number;
  /** How often a waiting processor looks again, in milliseconds. */
  pollMs: number;
}

/**
 * Defaults: busy at 40 messages a second or more. Ordinary traffic stays far below
 * that and is processed as it arrives; bursts above it outrun processing anyway. During
 * a burst each message waits at most a second.
 */
export const DEFAULT_INTAKE_PRESSURE: IntakePressureOptions = { windowMs: 250, busyArrivals: 10, maxDeferMs: 1000, pollMs: 25 };

/**
 * How busy the SMTP intake is. Processing steps aside while it is busy, because
 * senders wait for the 250 and processing needs only the journal, which keeps every
 * accepted message. Exim's `queue_only_load` makes the same trade. A message waits
 * at most `maxDeferMs` plus one `pollMs`, so a long burst slows processing but never stops it.
 */
export class IntakePressure {
  /** Arrival times of the last `busyArrivals` messages, oldest first. */
  private readonly arrivals: number[] = [];

  constructor(
    private readonly options: IntakePressureOptions = DEFAULT_INTAKE_PRESSURE,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Record that the intake accepted a message. */
  noteArrival(): void {
    this.arrivals.push(this.now());
    if (this.arrivals.length > this.options.busyArrivals) this.arrivals.shift();
  }

  isBusy(): boolean {
    const oldest = this.arrivals[0];
    return this.arrivals.length >= this.options.busyArrivals && oldest !== undefined && this.now() - oldest < this.options.windowMs;
  }

  /** Wait while the intake is busy, for at most `maxDeferMs` or until `cancelled` returns true. */
  async waitUntilQuiet(cancelled: () => boolean = () => false): Promise<void> {
    const deadline = this.now() + this.options.maxDeferMs;
    while (this.isBusy() && !cancelled() && this.now() < deadline) await sleep(this.options.pollMs);
  }
}
