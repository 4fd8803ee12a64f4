import { describe, expect, it } from 'vitest';
import { IntakePressure } from '../../src/inbound/intake-pressure.js';
import { InboundProcessor } from '../../src/inbound/processor.js';
import { createTestApp } from '../helpers/app.js';
import { handwrittenMessage } from '../helpers/messages.js';

describe('IntakePressure', () => {
  const options = { windowMs: 100, busyArrivals: 3, maxDeferMs: 60, pollMs: 5 };

  function withClock() {
    const clock = { now: 1000 };
    return { clock, pressure: new IntakePressure(options, () => clock.now) };
  }

  it('is quiet below the arrival count', () => {
    const { pressure } = withClock();

    pressure.noteArrival();
    pressure.noteArrival();

    expect(pressure.isBusy()).toBe(false);
  });

  it('is busy when arrivals crowd the window', () => {
    const { clock, pressure } = withClock();

    for (const time of [1000, 1040, 1080]) {
      clock.now = time;
      pressure.noteArrival();
    }

    expect(pressure.isBusy()).toBe(true);
    clock.now = 1099;
    expect(pressure.isBusy()).toBe(true);
    clock.now = 1100;
    expect(pressure.isBusy()).toBe(false);
  });

  it('ignores arrivals spread beyond the window', () => {
    const { clock, pressure } = withClock();

    for (const time of [1000, 1060, 1120]) {
      clock.now = time;
      pressure.noteArrival();
    }

    expect(pressure.isBusy()).toBe(false);
  });

  it('waits no longer than the deferral limit', async () => {
    // A real clock, kept busy by arrivals throughout the wait.
    const pressure = new IntakePressure(options);
    const feeder = setInterval(() => pressure.noteArrival(), 2);
    for (let count = 0; count < 3; count++) pressure.noteArrival();
    const start = performance.now();

    await pressure.waitUntilQuiet();
    clearInterval(feeder);

    const waited = performance.now() - start;
    expect(waited).toBeGreaterThanOrEqual(options.maxDeferMs - 1);
    expect(waited).toBeLessThan(options.maxDeferMs + 200);
  });

  it('stops waiting when cancelled', async () => {
    const { pressure } = withClock();
    for (let count = 0; count < 3; count++) pressure.noteArrival();
    let cancelled = false;
    setTimeout(() => (cancelled = true), 10);

    await pressure.waitUntilQuiet(() => cancelled);

    expect(cancelled).toBe(true);
    expect(pressure.isBusy()).toBe(true);
  });

  it('returns at once when quiet', async () => {
    const { pressure } = withClock();

    await pressure.waitUntilQuiet(() => {
      throw new Error('a quiet intake must not be polled');
    });
  });
});

describe('InboundProcessor with a busy intake', () => {
  it('processes a message once the intake is quiet', async () => {
    const { app, cleanup } = await createTestApp({}, ['worker']);
    try {
      const clock = { now: 0 };
      const pressure = new IntakePressure({ windowMs: 100, busyArrivals: 2, maxDeferMs: 10_000, pollMs: 5 }, () => clock.now);
      pressure.noteArrival();
      pressure.noteArrival();
      const processor = new InboundProcessor({ prisma: app.prisma, journal: app.journal, runner: app.runner, config: app.config, logger: app.logger, pressure });
      const { raw } = handwrittenMessage({ from: 'ann@customer.test', to: 'support@example.test', subject: 'During a burst', text: 'Hello.' });
      const entry = await app.journal.appendBuffer(Buffer.from(raw), 'smtp', { mailFrom: 'ann@customer.test', rcptTo: ['support@example.test'] });

      processor.enqueue(entry.id);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await app.prisma.inboundMessage.findUniqueOrThrow({ where: { id: entry.id } })).status).toBe('pending');

      clock.now = 100;
      await processor.idle();
      expect((await app.prisma.inboundMessage.findUniqueOrThrow({ where: { id: entry.id } })).status).toBe('processed');
      await processor.stop();
    } finally {
      await cleanup();
    }
  });
});
