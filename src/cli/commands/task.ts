import { parseArgs } from 'node:util';
import type { TaskStatus } from '../../db/generated/enums.js';
import { parseStatus, STATUS_NAMES } from '../../tasks/status.js';
import { formatCutNotice, formatDate, formatTable } from '../format.js';
import { UsageError, type CliCommand, type CliDeps } from '../types.js';

/** `postdesk task list|show`: read tasks with their conversation and history. */
export const taskCommand: CliCommand = {
  name: 'task',
  summary: 'list tasks and show one with its comments and history',
  usage: ['task list [--status STATUS] [--assignee ADDRESS] [--limit N (default 50)]', 'task show NUMBER'].join('\n'),
  async run(args, deps) {
    const [sub, ...rest] = args;
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { status: { type: 'string' }, assignee: { type: 'string' }, limit: { type: 'string' } } });

    if (sub === 'list') {
      let status: TaskStatus | undefined;
      if (values.status !== undefined) {
        status = parseStatus(values.status) ?? undefined;
        if (!status) throw new UsageError(`invalid --status "${values.status}"; use one of: ${Object.values(STATUS_NAMES).join(', ')}`);
      }
      const limit = values.limit === undefined ? 50 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`invalid --limit "${values.limit}"; give a whole number of at least 1`);
      const where = { ...(status ? { status } : {}), ...(values.assignee ? { assignee: { email: values.assignee.toLowerCase() } } : {}) };
      const tasks = await deps.prisma.task.findMany({ where, include: { author: true, assignee: true }, orderBy: { id: 'desc' }, take: limit });
      const rows = tasks.map((task) => [`#${task.id}`, STATUS_NAMES[task.status], task.priority, task.author.email, task.assignee?.email ?? '', formatDate(task.createdAt), task.subject]);
      for (const line of formatTable(['TASK', 'STATUS', 'PRIORITY', 'AUTHOR', 'ASSIGNEE', 'CREATED', 'SUBJECT'], rows)) deps.out(line);
      if (tasks.length === limit) {
        const total = await deps.prisma.task.count({ where });
        if (total > limit) deps.out(formatCutNotice(limit, total));
      }
      return 0;
    }

    if (sub === 'show') return showTask(deps, positionals[0]);
    throw new UsageError(sub ? `unknown subcommand "task ${sub}"` : 'missing subcommand');
  },
};

async function showTask(deps: CliDeps, number: string | undefined): Promise<number> {
  const id = Number((number ?? '').replace(/^#/, ''));
  if (!Number.isInteger(id) || id < 1) throw new UsageError(`invalid task number "${number ?? ''}"`);

  const task = await deps.prisma.task.findUnique({
    where: { id },
    include: {
      author: true,
      assignee: true,
      category: true,
      department: true,
      comments: { include: { author: true, attachments: true }, orderBy: { id: 'asc' } },
      events: { include: { actor: true }, orderBy: { id: 'asc' } },
      watchers: { include: { user: true } },
    },
  });
  if (!task) {
    deps.out(`task #${id} not found`);
    return 1;
  }

  deps.out(`#${task.id} ${task.subject}`);
  deps.out(`status: ${STATUS_NAMES[task.status]}   priority: ${task.priority}   category: ${task.category?.name ?? '-'}   department: ${task.department?.name ?? '-'}`);
  deps.out(`author: ${task.author.email}   assignee: ${task.assignee?.email ?? '-'}   watchers: ${task.watchers.map((watcher) => watcher.user.email).join(', ') || '-'}`);
  deps.out(`created: ${formatDate(task.createdAt)}   first response: ${formatDate(task.firstRespondedAt) || '-'}   resolved: ${formatDate(task.resolvedAt) || '-'}`);
  deps.out(`deadline: ${formatDate(task.resolutionDueAt) || '-'}   first-response deadline: ${formatDate(task.firstResponseDueAt) || '-'}   prerequisite: ${task.prerequisiteId ? `#${task.prerequisiteId}` : '-'}`);

  deps.out('');
  deps.out('Comments');
  for (const comment of task.comments) {
    const flags = [comment.visibility, comment.channel, ...(comment.automatic ? ['automatic'] : [])].join(', ');
    deps.out(`--- ${formatDate(comment.createdAt)} ${comment.author?.email ?? 'system'} (${flags})${comment.inboundMessageId ? ` journal ${comment.inboundMessageId}` : ''}`);
    for (const line of comment.body.split('\n')) deps.out(`  ${line}`);
    for (const attachment of comment.attachments) deps.out(`  [attachment] ${attachment.fileName} (${attachment.contentType}, ${attachment.size} bytes${attachment.inline ? ', inline' : ''})`);
  }

  deps.out('');
  deps.out('History');
  for (const event of task.events) {
    let change = '';
    if (event.fromValue !== null) change += ` ${event.fromValue} ->`;
    if (event.toValue !== null) change += ` ${event.toValue}`;
    else if (event.fromValue !== null) change += ' (none)';
    deps.out(`${formatDate(event.createdAt)}  ${event.kind}${change}  by ${event.actor?.email ?? 'system'} via ${event.channel}${event.details ? `  ${event.details}` : ''}`);
  }
  return 0;
}
