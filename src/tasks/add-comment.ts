import type { CommentVisibility } from '../db/generated/enums.js';
import type { ChangeContext } from './change.js';
import { changeStatus } from './change-status.js';
import { recordChange } from './history.js';
import { assignTask } from './update-task.js';
import { isStaff } from './users.js';

/** A reply or note to add to a task. */
export interface NewComment {
  taskId: number;
  authorId: number | null;
  body: string;
  visibility: CommentVisibility;
  automatic?: boolean;
  inboundMessageId?: string | null;
}

/**
 * Add a comment. A public staff reply sets the first-response time; a customer's
 * reply reopens a done task and ends a wait for the customer. Automatic replies
 * are kept as flagged notes and change nothing else.
 */
export async function addComment(context: ChangeContext, input: NewComment) {
  const task = await context.tx.task.findUniqueOrThrow({ where: { id: input.taskId } });
  const author = input.authorId ? await context.tx.user.findUnique({ where: { id: input.authorId } }) : null;

  const comment = await context.tx.comment.create({
    data: {
      taskId: task.id,
      authorId: input.authorId,
      visibility: input.visibility,
      channel: context.channel,
      body: input.body,
      automatic: input.automatic ?? false,
      inboundMessageId: input.inboundMessageId ?? null,
    },
  });

  if (input.automatic) {
    await recordChange(context, task.id, { kind: 'automatic-reply', details: { commentId: comment.id } });
    return comment;
  }

  const eventName = input.visibility === 'public' ? 'comment.public' : 'comment.internal';
  await recordChange(context, task.id, { kind: eventName === 'comment.public' ? 'reply' : 'note', details: { commentId: comment.id } }, { name: eventName });

  const staffAuthor = author !== null && isStaff(author.role);
  if (staffAuthor && input.visibility === 'public' && task.firstRespondedAt === null) {
    await context.tx.task.update({ where: { id: task.id }, data: { firstRespondedAt: comment.createdAt } });
  }
  // The first staff member to reply to an unassigned task takes it, so that the
  // customer's next reply reaches someone. #assign in the same reply still wins.
  if (staffAuthor && input.visibility === 'public' && task.assigneeId === null) {
    const current = await context.tx.task.findUniqueOrThrow({ where: { id: task.id }, select: { assigneeId: true } });
    if (current.assigneeId === null) await assignTask(context, task.id, author.id);
  }
  if (author !== null && !staffAuthor && (task.status === 'done' || task.status === 'waiting')) {
    await changeStatus(context, task.id, task.assigneeId ? 'in_progress' : 'new', { reason: task.status === 'done' ? 'reopened by customer reply' : 'customer replied' });
  }
  return comment;
}
