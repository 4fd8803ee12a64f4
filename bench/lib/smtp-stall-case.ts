import { closeClients, openClients, sendAll, sendPaced, sleep, type LoadRun } from './load.js';
import { MessageFactory } from './messages.js';
import type { ServerStats } from './server-protocol.js';
import type { SendTiming } from './smtp-client.js';
import { startServer, waitFor, waitForProcessing, type CaseContext } from './smtp-cases.js';
import { nowMs, summarizeLatencies, type LatencySummary } from './stats.js';

/** Small-message latency with and without a 25 MB message on another connection. */
export interface StallResult {
  smallConnections: number;
  /** Offered load of small messages over all their connections, in messages per second. */
  offeredMessagesPerSecond: number;
  without: { seconds: number; acceptLatency: LatencySummary; errors: number };
  with: {
    seconds: number;
    acceptLatency: LatencySummary;
    /** Small messages whose send started between the first large MAIL FROM and the end of the large messages' processing. */
    acceptLatencyDuringLarge: LatencySummary;
    errors: number;
    hugeMessages: number;
    hugeBytes: number;
    /** Replies to the large messages' end-of-data lines. */
    hugeReplies: string[];
    hugeAcceptMs: number[];
    hugeTransactionMs: number[];
    /** From the first large MAIL FROM until every large message was processed, in seconds. */
    largeWindowSeconds: number;
  };
  eventLoopDelayWithout: ServerStats['eventLoopDelay'];
  eventLoopDelayWith: ServerStats['eventLoopDelay'];
  peakRssWithBytes: number;
  timingsWith: ServerStats['timings'];
}

/**
 * Run paced small-message senders against Postdesk for `seconds`, then again while
 * another connection sends `hugeCount` 25 MB messages one after another, and
 * compare the small messages' accept latency.
 */
export async function runStallCase(spec: { smallConnections: number; offeredRate: number; seconds: number; hugeCount: number; warmup: number }, context: CaseContext): Promise<StallResult> {
  const label = `postdesk-stall-${spec.hugeCount}x25mb`;
  context.progress(`${label}: starting`);
  const server = await startServer('postdesk', context, label);
  try {
    const factory = new MessageFactory();
    let index = 0;
    const nextSmall = () => factory.build('small', index++);
    const intervalMs = (1000 * spec.smallConnections) / spec.offeredRate;

    const clients = await openClients(server.port, spec.smallConnections);
    await sendAll(server.port, clients, Array.from({ length: spec.warmup }, nextSmall));
    await waitForProcessing(server, index, true);

    // Without the large message.
    await server.stats(true);
    let stopAt = nowMs() + spec.seconds * 1000;
    const without = await sendPaced(server.port, clients, nextSmall, intervalMs, () => nowMs() >= stopAt);
    await waitForProcessing(server, index - without.errors.length, true);
    const statsWithout = await server.stats(true);
    context.progress(`${label}: ${without.samples.length} small messages without the large one`);

    // With it: the large sender starts after a second of small traffic.
    let largeDone = false;
    let windowEnd = Number.POSITIVE_INFINITY;
    const hugeTimings: SendTiming[] = [];
    const hugeBytes: number[] = [];
    // Built before the small senders start: encoding 25 MB blocks this process's
    // event loop and would show up as latency of the small messages.
    const hugeMessages = Array.from({ length: spec.hugeCount }, (_, count) => factory.build('huge', count));
    const large = (async () => {
      await sleep(1000);
      const [client] = await openClients(server.port, 1);
      for (const message of hugeMessages) {
        hugeBytes.push(message.raw.length);
        hugeTimings.push(await client!.send(message));
      }
      await client!.quit();
      const accepted = hugeTimings.filter((timing) => timing.reply.code === 250).length;
      await waitFor(async () => {
        const counts = await server.countProcessing();
        return counts.large >= accepted && counts.pendingLarge === 0;
      }, 'the large messages to be processed');
      windowEnd = nowMs();
      largeDone = true;
    })();
    stopAt = Number.POSITIVE_INFINITY;
    const withLarge = await sendPaced(server.port, clients, nextSmall, intervalMs, () => {
      if (largeDone && stopAt === Number.POSITIVE_INFINITY) stopAt = nowMs() + 1000;
      return nowMs() >= stopAt;
    });
    await large;
    const stats = await server.stats(true);
    await closeClients(clients);

    const windowStart = hugeTimings[0]?.startedAt ?? Number.POSITIVE_INFINITY;
    const during = withLarge.samples.filter((sample) => sample.startedAt >= windowStart && sample.startedAt <= windowEnd);
    context.progress(`${label}: ${withLarge.samples.length} small messages with ${spec.hugeCount} large`);

    return {
      smallConnections: spec.smallConnections,
      offeredMessagesPerSecond: spec.offeredRate,
      without: summarizeRun(without),
      with: {
        ...summarizeRun(withLarge),
        acceptLatencyDuringLarge: summarizeLatencies(during.map((sample) => sample.acceptMs)),
        hugeMessages: spec.hugeCount,
        hugeBytes: hugeBytes[0] ?? 0,
        hugeReplies: hugeTimings.map((timing) => `${timing.reply.code} ${timing.reply.text}`),
        hugeAcceptMs: hugeTimings.map((timing) => timing.acceptMs),
        hugeTransactionMs: hugeTimings.map((timing) => timing.transactionMs),
        largeWindowSeconds: (windowEnd - windowStart) / 1000,
      },
      eventLoopDelayWithout: statsWithout.eventLoopDelay,
      eventLoopDelayWith: stats.eventLoopDelay,
      peakRssWithBytes: stats.peakRssBytes,
      timingsWith: stats.timings,
    };
  } finally {
    await server.stop();
  }
}

function summarizeRun(run: LoadRun): { seconds: number; acceptLatency: LatencySummary; errors: number } {
  return { seconds: run.seconds, acceptLatency: summarizeLatencies(run.samples.map((sample) => sample.acceptMs)), errors: run.errors.length };
}
