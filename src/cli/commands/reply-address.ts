import { parseArgs } from 'node:util';
import { buildReplyAddress } from '../../mail/reply-address.js';
import { normalizeAddress } from '../../tasks/users.js';
import { UsageError, type CliCommand } from '../types.js';

/** `postdesk reply-address --task N --user ADDRESS`: the tokened address that person replies to. */
export const replyAddressCommand: CliCommand = {
  name: 'reply-address',
  summary: 'print the reply address with thread token that a person uses for a task',
  usage: 'reply-address --task NUMBER --user ADDRESS',
  async run(args, deps) {
    const { values } = parseArgs({ args, options: { task: { type: 'string' }, user: { type: 'string' } } });
    const taskId = Number((values.task ?? '').replace(/^#/, ''));
    if (!Number.isInteger(taskId) || taskId < 1) throw new UsageError(`invalid or missing --task "${values.task ?? ''}"`);
    if (!values.user) throw new UsageError('missing --user ADDRESS');

    const task = await deps.prisma.task.findUnique({ where: { id: taskId }, include: { department: true } });
    if (!task) throw new UsageError(`task #${taskId} not found`);
    const user = await deps.prisma.user.findUnique({ where: { email: normalizeAddress(values.user) } });
    if (!user) throw new UsageError(`no user with the address ${values.user}`);

    deps.out(buildReplyAddress(deps.config, task.id, user.id, task.department?.address));
    return 0;
  },
};
