/**
 * The BullMQ queues of Postdesk.
 *
 * TODO: nothing uses `escalations` and `deadline-check` yet; they name the deadline
 * warning and breach jobs, which are not built.
 */
export type QueueName = 'notifications' | 'escalations';

/** The job kinds, one per queue so far. */
export type JobName = 'deliver-outbound' | 'deadline-check';

/** Payload of a `deliver-outbound` job. The job id is the OutboundMessage id as well. */
export interface DeliverOutboundJob {
  outboundId: string;
}

/** Queue that carries one `deliver-outbound` job per OutboundMessage row. */
export const NOTIFICATIONS_QUEUE: QueueName = 'notifications';

/** Job that delivers one OutboundMessage row. */
export const DELIVER_OUTBOUND_JOB: JobName = 'deliver-outbound';
