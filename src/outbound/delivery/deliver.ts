import type { Config } from '../../config/index.js';
import type { PrismaClient } from '../../db/client.js';
import type { Logger } from '../../logger.js';
import type { ChangeRunner } from '../../tasks/change.js';
import { classifySendError, describeSendFailure } from './classify-send-error.js';
import { getDeliveryRowLoader } from './load-row.js';
import { findExceededCap } from './loop-brakes.js';
import { getOutboxWriter } from './outbox-writer.js';
import { markFailed, markHeld, markRetry } from './record.js';
import type { MailTransport, RenderOutbound } from './types.js';

/** Dependencies of deliverOutbound. */
export interface DeliveryDeps {
  prisma: PrismaClient;
  config: Config;
  logger: Logger;
  transport: MailTransport;
  render: RenderOutbound;
  /** When given, failures are recorded through it and emit `delivery.failed`. */
  runner?: ChangeRunner;
  /** Ids of the rows being delivered in this process; shared by every call with these deps. */
  inFlight: Set<string>;
}

/** Result of one delivery run. On `retry` the queue runs the job again later. */
export type DeliveryOutcome =
  | { status: 'sent'; response: string }
  | { status: 'skipped'; reason: 'not-found' | 'closed' | 'in-flight' }
  | { status: 'held'; reason: string }
  | { status: 'retry'; reason: string }
  | { status: 'failed'; reason: string };

/**
 * Deliver one OutboundMessage row: skip it when it is no longer open, hold it when a send
 * limit is reached, otherwise render, send and record the result. A temporary failure
 * returns `retry` (or `failed` on the last attempt); a permanent one returns `failed`.
 * Database errors are thrown, so the queue retries the job.
 *
 * Running this twice for one row sends once: a second run finds the row sent, held or
 * failed, or, while the first is still sending in this process, finds its id in
 * `inFlight`. Two processes run the same row only if BullMQ takes the job from a worker
 * whose lock expired (an event loop blocked for 30 s) while that worker still runs it.
 * The other window is a crash, or a failed database write, after the relay accepted the
 * mail and before the sent status commits a few milliseconds later: the next run finds
 * the row open and sends the mail again. SMTP has the same window between the final "."
 * and the 250 reply.
 */
export async function deliverOutbound(deps: DeliveryDeps, outboundId: string, attempt: { final: boolean }): Promise<DeliveryOutcome> {
  if (deps.inFlight.has(outboundId)) {
    deps.logger.debug({ component: 'delivery', outboundId }, 'outbound row is being delivered by another run');
    return { status: 'skipped', reason: 'in-flight' };
  }
  deps.inFlight.add(outboundId);
  try {
    return await deliverRow(deps, outboundId, attempt);
  } finally {
    deps.inFlight.delete(outboundId);
  }
}

async function deliverRow(deps: DeliveryDeps, outboundId: string, attempt: { final: boolean }): Promise<DeliveryOutcome> {
  const { prisma, config, logger } = deps;
  const log = logger.child({ component: 'delivery', outboundId });

  const state = await getDeliveryRowLoader(prisma).load(outboundId);
  if (!state) {
    log.warn('outbound row not found; nothing to send');
    return { status: 'skipped', reason: 'not-found' };
  }
  const { row } = state;
  if (row.status !== 'pending' && row.status !== 'queued') {
    log.debug({ status: row.status }, 'outbound row already closed');
    return { status: 'skipped', reason: 'closed' };
  }

  const exceeded = findExceededCap(state, config);
  if (exceeded) {
    const held = await markHeld(prisma, row, exceeded);
    if (!held) return { status: 'skipped', reason: 'closed' };
    log.warn({ taskId: row.taskId, cap: exceeded.cap, limit: exceeded.limit, sent: exceeded.sent }, 'mail held: send limit reached');
    return { status: 'held', reason: exceeded.description };
  }

  const attempts = row.attempts + 1;

  let mail;
  try {
    mail = await deps.render(row, config);
  } catch (error) {
    // Rendering reads only the row and the templates, so running it again gives the same error.
    const reason = `render failed: ${errorMessage(error)}`;
    await markFailed(deps.runner ?? prisma, row, null, reason, new Date());
    log.error({ err: error, taskId: row.taskId, template: row.template }, 'mail failed: template could not be rendered');
    return { status: 'failed', reason };
  }

  let response: string;
  try {
    // The row's Message-ID is the one recorded in ThreadMessage, so replies find the task.
    ({ response } = await deps.transport.send({ ...mail, messageId: row.messageId }, row.id));
  } catch (error) {
    const failure = classifySendError(error);
    const reason = describeSendFailure(failure, errorMessage(error));
    const fields = { taskId: row.taskId, attempts, code: failure.code, responseCode: failure.responseCode, response: failure.response };
    if (failure.kind === 'permanent' || attempt.final) {
      await markFailed(deps.runner ?? prisma, row, failure, reason, new Date());
      log.error({ ...fields, permanent: failure.kind === 'permanent' }, 'mail failed');
      return { status: 'failed', reason };
    }
    await markRetry(prisma, row, reason);
    if (failure.configuration) log.error({ ...fields, err: error }, 'mail not sent: relay settings rejected; will retry');
    else log.warn(fields, 'mail not sent: temporary failure; will retry');
    return { status: 'retry', reason };
  }

  await getOutboxWriter(prisma).markSent(row.id);
  log.info({ taskId: row.taskId, messageId: row.messageId, attempts, transport: deps.transport.kind }, 'mail sent');
  return { status: 'sent', response };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
