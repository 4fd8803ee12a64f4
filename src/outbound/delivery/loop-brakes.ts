import type { Config } from '../../config/index.js';
import type { DeliveryRow } from './load-row.js';

/** A send limit that a mail would exceed. */
export interface ExceededCap {
  /** The setting that was reached, named as in config.outbound. */
  cap: 'maxPerRecipientPerDay' | 'maxPerTaskPerHour';
  limit: number;
  /** Mails already sent in the window. */
  sent: number;
  /** Text for OutboundMessage.lastError and the task history. */
  description: string;
}

/**
 * Return the first send limit this row would exceed, or null. The limits stop mail
 * loops and floods: at most config.outbound.maxPerRecipientPerDay mails to one address
 * in 24 hours and maxPerTaskPerHour mails about one task in an hour, counting rows
 * sent in that window (DeliveryRowLoader counts them).
 *
 * NOTE: the count and the send are not atomic, so jobs running in parallel can each
 * pass the check and overshoot a limit by up to the number of jobs in flight.
 */
export function findExceededCap(state: DeliveryRow, config: Config): ExceededCap | null {
  const { row, sentToRecipient, sentAboutTask } = state;
  const { maxPerRecipientPerDay, maxPerTaskPerHour } = config.outbound;

  if (sentToRecipient >= maxPerRecipientPerDay) {
    return {
      cap: 'maxPerRecipientPerDay',
      limit: maxPerRecipientPerDay,
      sent: sentToRecipient,
      description: `held: maxPerRecipientPerDay reached (${sentToRecipient} mails sent to ${row.toAddress} in 24 hours, limit ${maxPerRecipientPerDay})`,
    };
  }
  if (row.taskId !== null && sentAboutTask >= maxPerTaskPerHour) {
    return {
      cap: 'maxPerTaskPerHour',
      limit: maxPerTaskPerHour,
      sent: sentAboutTask,
      description: `held: maxPerTaskPerHour reached (${sentAboutTask} mails sent about task #${row.taskId} in the last hour, limit ${maxPerTaskPerHour})`,
    };
  }
  return null;
}
