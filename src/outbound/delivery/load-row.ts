import type { PrismaClient } from '../../db/client.js';
import { Prisma, type OutboundMessage } from '../../db/generated/client.js';
import { OutboundStatus } from '../../db/generated/enums.js';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/** An outbox row and what the send limits count for it. */
export interface DeliveryRow {
  row: OutboundMessage;
  /** Mails sent to the row's address in the last 24 hours. */
  sentToRecipient: number;
  /** Mails sent about the row's task in the last hour; 0 for a row without a task. */
  sentAboutTask: number;
}

/** Rows read in one query at most. */
const MAX_BATCH = 200;

interface LoadRequest {
  id: string;
  resolve(value: DeliveryRow | null): void;
  reject(error: unknown): void;
}

/**
 * Reads outbox rows with both send-limit counts. This runs once per mail, so the jobs
 * that start in the same turn of the event loop share one raw query. A Prisma call has
 * a fixed cost of a few tenths of a millisecond (measured with bench/outbound.ts), many
 * times what SQLite needs for the query itself.
 */
export class DeliveryRowLoader {
  private requests: LoadRequest[] = [];
  private scheduled = false;

  constructor(private readonly prisma: PrismaClient) {}

  /** Read one row; resolves null when it does not exist. */
  load(id: string): Promise<DeliveryRow | null> {
    return new Promise((resolve, reject) => {
      this.requests.push({ id, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    this.scheduled = false;
    while (this.requests.length > 0) {
      const batch = this.requests.splice(0, MAX_BATCH);
      try {
        const rows = await queryDeliveryRows(this.prisma, [...new Set(batch.map((request) => request.id))], new Date());
        for (const request of batch) request.resolve(rows.get(request.id) ?? null);
      } catch (error) {
        for (const request of batch) request.reject(error);
      }
    }
  }
}

const loaders = new WeakMap<PrismaClient, DeliveryRowLoader>();

/** Return the row loader of this database client, shared by every delivery in the process. */
export function getDeliveryRowLoader(prisma: PrismaClient): DeliveryRowLoader {
  let loader = loaders.get(prisma);
  if (!loader) {
    loader = new DeliveryRowLoader(prisma);
    loaders.set(prisma, loader);
  }
  return loader;
}

async function queryDeliveryRows(prisma: PrismaClient, ids: string[], now: Date): Promise<Map<string, DeliveryRow>> {
  const dayAgo = new Date(now.getTime() - DAY_MS);
  const hourAgo = new Date(now.getTime() - HOUR_MS);
  const rows = await prisma.$queryRaw<Record<string, unknown>[]>`
    SELECT o."id", o."taskId", o."recipientId", o."toAddress", o."reason", o."event", o."template", o."payload",
      o."dedupeKey", o."messageId", o."inReplyTo", o."status", o."attempts", o."lastError", o."sentAt", o."queuedAt", o."createdAt",
      (SELECT COUNT(*) FROM "OutboundMessage" r
        WHERE r."toAddress" = o."toAddress" AND r."status" = 'sent' AND r."sentAt" >= ${dayAgo}) AS "sentToRecipient",
      (SELECT COUNT(*) FROM "OutboundMessage" t
        WHERE t."taskId" = o."taskId" AND t."status" = 'sent' AND t."sentAt" >= ${hourAgo}) AS "sentAboutTask"
    FROM "OutboundMessage" o
    WHERE o."id" IN (${Prisma.join(ids)})`;

  const result = new Map<string, DeliveryRow>();
  for (const raw of rows) {
    const row = toOutboundMessage(raw);
    result.set(row.id, { row, sentToRecipient: integer(raw, 'sentToRecipient'), sentAboutTask: integer(raw, 'sentAboutTask') });
  }
  return result;
}

function toOutboundMessage(raw: Record<string, unknown>): OutboundMessage {
  return {
    id: text(raw, 'id'),
    taskId: optionalInteger(raw, 'taskId'),
    recipientId: optionalInteger(raw, 'recipientId'),
    toAddress: text(raw, 'toAddress'),
    reason: text(raw, 'reason'),
    event: text(raw, 'event'),
    template: text(raw, 'template'),
    payload: text(raw, 'payload'),
    dedupeKey: text(raw, 'dedupeKey'),
    messageId: text(raw, 'messageId'),
    inReplyTo: optionalText(raw, 'inReplyTo'),
    status: status(raw),
    attempts: integer(raw, 'attempts'),
    lastError: optionalText(raw, 'lastError'),
    sentAt: optionalDate(raw, 'sentAt'),
    queuedAt: optionalDate(raw, 'queuedAt'),
    createdAt: date(raw, 'createdAt'),
  };
}

// Through Prisma's column types the drivers return counts as bigint and dates as Date.
// These readers check each value, so that a driver change fails here and not later.

function text(raw: Record<string, unknown>, column: string): string {
  const value = raw[column];
  if (typeof value !== 'string') throw unexpected(column, value);
  return value;
}

function optionalText(raw: Record<string, unknown>, column: string): string | null {
  return raw[column] === null ? null : text(raw, column);
}

function integer(raw: Record<string, unknown>, column: string): number {
  const value = raw[column];
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  throw unexpected(column, value);
}

function optionalInteger(raw: Record<string, unknown>, column: string): number | null {
  return raw[column] === null ? null : integer(raw, column);
}

function date(raw: Record<string, unknown>, column: string): Date {
  const value = raw[column];
  if (value instanceof Date) return value;
  if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return new Date(value);
  throw unexpected(column, value);
}

function optionalDate(raw: Record<string, unknown>, column: string): Date | null {
  return raw[column] === null ? null : date(raw, column);
}

function status(raw: Record<string, unknown>): OutboundStatus {
  const value = raw['status'];
  const known = Object.values(OutboundStatus).find((entry) => entry === value);
  if (!known) throw unexpected('status', value);
  return known;
}

function unexpected(column: string, value: unknown): Error {
  return new Error(`OutboundMessage.${column}: unexpected value of type ${typeof value} from the database driver`);
}
