import type { Role } from '../../db/generated/enums.js';
import type { User } from '../../db/generated/client.js';
import type { Db } from '../../db/client.js';
import { normalizeAddress } from '../../tasks/users.js';
import type { EventFacts } from './facts.js';
import type { RecipientSelector } from './types.js';

/** Roles that receive a new query when its task has no department. */
const UNROUTED_TASK_ROLES: readonly Role[] = ['employee', 'manager'];
const DEPARTMENT_MEMBER_ROLES: readonly Role[] = ['employee', 'manager', 'admin'];

/**
 * Find the users a selector names for an event. Inactive users and failing addresses
 * are returned too, because the planner skips them and records why.
 */
export async function resolveSelector(db: Db, selector: RecipientSelector, facts: EventFacts): Promise<User[]> {
  const { task, event } = facts;

  switch (selector.type) {
    case 'author':
      return [task.author];
    case 'assignee':
      return task.assignee ? [task.assignee] : [];
    case 'previous-assignee':
      return findUsers(db, [numberField(event.data, 'previousAssigneeId')]);
    case 'watchers': {
      const watchers = await db.taskWatcher.findMany({ where: { taskId: task.id }, include: { user: true }, orderBy: { userId: 'asc' } });
      return watchers.map((watcher) => watcher.user);
    }
    case 'actor':
      // Command replies go to the sender of the commands, which the event names.
      return findUsers(db, [numberField(event.data, 'recipientId') ?? event.actorId]);
    case 'assignee-manager':
      return findUsers(db, [task.assignee?.managerId ?? null]);
    case 'role':
      return db.user.findMany({ where: { role: selector.role }, orderBy: { id: 'asc' } });
    case 'department-members':
      return findDepartmentUsers(db, facts, selector.department, DEPARTMENT_MEMBER_ROLES, UNROUTED_TASK_ROLES);
    case 'department-managers':
      return findDepartmentUsers(db, facts, selector.department, ['manager'], ['manager']);
    case 'users':
      return db.user.findMany({ where: { email: { in: selector.emails.map(normalizeAddress) } }, orderBy: { id: 'asc' } });
  }
}

/** Describe a selector in a short phrase, for the reasons a person is mailed. */
export function describeSelector(selector: RecipientSelector): string {
  switch (selector.type) {
    case 'author':
      return 'author of the task';
    case 'assignee':
      return 'assignee';
    case 'previous-assignee':
      return 'previous assignee';
    case 'watchers':
      return 'watcher';
    case 'actor':
      return 'sender of the change';
    case 'assignee-manager':
      return "assignee's manager";
    case 'role':
      return `role ${selector.role}`;
    case 'department-members':
      return selector.department ? `member of ${selector.department}` : "member of the task's department";
    case 'department-managers':
      return selector.department ? `manager in ${selector.department}` : "manager in the task's department";
    case 'users':
      return 'named in the rule';
  }
}

/**
 * Find the staff of a named department, or of the task's department. When the task
 * has no department, or its department has no active user with these roles, every
 * active user with one of `fallbackRoles` is chosen, so that a new query reaches staff.
 */
async function findDepartmentUsers(db: Db, facts: EventFacts, name: string | undefined, roles: readonly Role[], fallbackRoles: readonly Role[]): Promise<User[]> {
  if (name !== undefined) {
    const department = await db.department.findFirst({ where: { name } });
    if (!department) return [];
    return db.user.findMany({ where: { departmentId: department.id, role: { in: [...roles] } }, orderBy: { id: 'asc' } });
  }

  const members =
    facts.task.departmentId === null ? [] : await db.user.findMany({ where: { departmentId: facts.task.departmentId, role: { in: [...roles] }, active: true }, orderBy: { id: 'asc' } });
  if (members.length > 0) return members;
  return db.user.findMany({ where: { role: { in: [...fallbackRoles] }, active: true }, orderBy: { id: 'asc' } });
}

async function findUsers(db: Db, ids: readonly (number | null)[]): Promise<User[]> {
  const wanted = ids.filter((id): id is number => id !== null);
  if (wanted.length === 0) return [];
  return db.user.findMany({ where: { id: { in: wanted } }, orderBy: { id: 'asc' } });
}

function numberField(data: Record<string, unknown>, key: string): number | null {
  const value = data[key];
  return typeof value === 'number' && Number.isInteger(value) ? value : null;
}
