import { parseArgs } from 'node:util';
import type { InboundStatus } from '../../db/generated/enums.js';
import { Journal } from '../../inbound/journal/journal.js';
import { InboundProcessor } from '../../inbound/processor.js';
import { ChangeRunner } from '../../tasks/change.js';
import { formatCutNotice, formatDate, formatTable } from '../format.js';
import { UsageError, type CliCommand, type CliDeps } from '../types.js';

const STATUSES: readonly InboundStatus[] = ['pending', 'processed', 'duplicate', 'ignored', 'failed'];

/** `postdesk journal list|show|retry`: the inbound mail journal. */
export const journalCommand: CliCommand = {
  name: 'journal',
  summary: 'list the inbound journal, show an entry, retry a failed one',
  usage: ['journal list [--status pending|processed|duplicate|ignored|failed] [--limit N (default 50)]', 'journal show ID [--raw]', 'journal retry ID|--all-failed'].join('\n'),
  async run(args, deps) {
    const [sub, ...rest] = args;
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { status: { type: 'string' }, limit: { type: 'string' }, raw: { type: 'boolean' }, 'all-failed': { type: 'boolean' } } });

    if (sub === 'list') {
      if (values.status !== undefined && !STATUSES.includes(values.status as InboundStatus)) throw new UsageError(`invalid --status "${values.status}"; use one of: ${STATUSES.join(', ')}`);
      const limit = values.limit === undefined ? 50 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`invalid --limit "${values.limit}"; give a whole number of at least 1`);
      const where = values.status ? { status: values.status as InboundStatus } : {};
      const entries = await deps.prisma.inboundMessage.findMany({ where, orderBy: { receivedAt: 'desc' }, take: limit });
      const rows = entries.map((entry) => [entry.id, formatDate(entry.receivedAt), entry.source, entry.status, entry.kind, entry.taskId ? `#${entry.taskId}` : '', entry.envelopeFrom, entry.error]);
      for (const line of formatTable(['ID', 'RECEIVED', 'SOURCE', 'STATUS', 'KIND', 'TASK', 'SENDER', 'ERROR'], rows)) deps.out(line);
      if (entries.length === limit) {
        const total = await deps.prisma.inboundMessage.count({ where });
        if (total > limit) deps.out(formatCutNotice(limit, total));
      }
      return 0;
    }
    if (sub === 'show') return showEntry(deps, positionals[0], values.raw ?? false);
    if (sub === 'retry') return retry(deps, positionals[0], values['all-failed'] ?? false);
    throw new UsageError(sub ? `unknown subcommand "journal ${sub}"` : 'missing subcommand');
  },
};

async function showEntry(deps: CliDeps, id: string | undefined, raw: boolean): Promise<number> {
  if (!id) throw new UsageError('missing journal id');
  const entry = await deps.prisma.inboundMessage.findUnique({ where: { id } });
  if (!entry) {
    deps.out(`journal entry ${id} not found`);
    return 1;
  }

  const journal = new Journal(deps.prisma, deps.config.dataDir, deps.logger);
  if (raw) {
    deps.out((await journal.readRaw(entry)).toString('utf8'));
    return 0;
  }
  const fields: [string, unknown][] = [
    ['id', entry.id],
    ['source', entry.source],
    ['status', entry.status],
    ['kind', entry.kind],
    ['received', formatDate(entry.receivedAt)],
    ['message-id', entry.messageId],
    ['envelope from', entry.envelopeFrom],
    ['envelope to', (JSON.parse(entry.envelopeTo) as string[]).join(', ')],
    ['size', `${entry.size} bytes`],
    ['sha-256', entry.sha256],
    ['task', entry.taskId ? `#${entry.taskId}` : null],
    ['routed by', entry.routedBy],
    ['attempts', entry.attempts],
    ['error', entry.error],
    ['raw file', journal.rawFilePath(entry)],
  ];
  for (const [name, value] of fields) deps.out(`${name.padEnd(14)} ${value ?? '-'}`);
  return 0;
}

async function retry(deps: CliDeps, id: string | undefined, allFailed: boolean): Promise<number> {
  if (!id && !allFailed) throw new UsageError('give a journal id or --all-failed');
  const ids = allFailed ? (await deps.prisma.inboundMessage.findMany({ where: { status: 'failed' }, select: { id: true }, orderBy: { receivedAt: 'asc' } })).map((entry) => entry.id) : [id!];

  const journal = new Journal(deps.prisma, deps.config.dataDir, deps.logger);
  const processor = new InboundProcessor({ prisma: deps.prisma, journal, runner: new ChangeRunner(deps.prisma, deps.logger), config: deps.config, logger: deps.logger });
  let failures = 0;
  for (const journalId of ids) {
    if (!(await processor.retry(journalId))) {
      deps.out(`${journalId}: not retried (no failed entry with this id)`);
      failures++;
      continue;
    }
    await processor.idle();
    const entry = await deps.prisma.inboundMessage.findUniqueOrThrow({ where: { id: journalId } });
    deps.out(`${journalId}: ${entry.status}${entry.taskId ? ` (task #${entry.taskId})` : ''}${entry.error ? ` - ${entry.error}` : ''}`);
    if (entry.status === 'failed') failures++;
  }
  return failures === 0 ? 0 : 1;
}
