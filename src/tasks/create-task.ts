import type { Channel, Priority } from '../db/generated/enums.js';
import type { ChangeContext } from './change.js';
import { recordChange } from './history.js';

/** Fields of a new task. */
export interface NewTask {
  subject: string;
  authorId: number;
  body: string;
  departmentId?: number | null;
  categoryId?: number | null;
  priority?: Priority;
  assigneeId?: number | null;
  inboundMessageId?: string | null;
  channel: Channel;
}

/** Create a task with its first comment (the query itself). Emits task.created. */
export async function createTask(context: ChangeContext, input: NewTask) {
  const task = await context.tx.task.create({
    data: {
      subject: input.subject.trim() || '(no subject)',
      authorId: input.authorId,
      departmentId: input.departmentId ?? null,
      categoryId: input.categoryId ?? null,
      priority: input.priority ?? 'normal',
      assigneeId: input.assigneeId ?? null,
      channel: input.channel,
    },
  });

  const comment = await context.tx.comment.create({
    data: {
      taskId: task.id,
      authorId: input.authorId,
      visibility: 'public',
      channel: input.channel,
      body: input.body,
      inboundMessageId: input.inboundMessageId ?? null,
    },
  });

  await recordChange(context, task.id, { kind: 'created', to: task.subject }, { name: 'task.created', data: { commentId: comment.id } });
  return { task, comment };
}
