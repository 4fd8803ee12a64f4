export { DELIVER_OUTBOUND_JOB, NOTIFICATIONS_QUEUE, type DeliverOutboundJob, type JobName, type QueueName } from './names.js';
export {
  createNotificationQueue,
  enqueueOutbound,
  enqueuePendingOutbound,
  type NotificationQueue,
  type NotificationQueueOptions,
  type PendingSweepOptions,
} from './notification-queue.js';
export { startNotificationWorker, TemporaryDeliveryError, type NotificationWorker, type NotificationWorkerDeps } from './notification-worker.js';
export { bullConnectionOptions, checkRedis, redactRedisUrl, RedisUnavailableError } from './redis.js';
