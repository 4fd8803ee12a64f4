import type { EventFacts } from './facts.js';
import type { RuleConditions } from './types.js';

/** True when every condition of a rule that concerns the event and the task holds. */
export function matchesConditions(conditions: RuleConditions, facts: EventFacts): boolean {
  const { task, actor } = facts;

  if (conditions.priorities && !conditions.priorities.includes(task.priority)) return false;
  if (conditions.statuses && !conditions.statuses.includes(task.status)) return false;
  if (conditions.categories && !includesName(conditions.categories, task.category?.name)) return false;
  if (conditions.departments && !includesName(conditions.departments, task.department?.name)) return false;
  if (conditions.actorRoles && !conditions.actorRoles.includes(actor?.role ?? 'system')) return false;
  if (conditions.actors && !includesName(conditions.actors, actor?.email)) return false;
  if (conditions.assigned !== undefined && conditions.assigned !== (task.assigneeId !== null)) return false;
  if (conditions.visibility && facts.visibility !== null && conditions.visibility !== facts.visibility) return false;
  return true;
}

/**
 * True when a rule may mail `userId` given who acted. Without an explicit
 * `actorIsRecipient`, the actor is not mailed about their own change.
 */
export function allowsRecipient(conditions: RuleConditions, facts: EventFacts, userId: number): boolean {
  const isActor = facts.actor !== null && facts.actor.id === userId;
  const rule = conditions.actorIsRecipient ?? 'no';
  if (rule === 'any') return true;
  return rule === 'yes' ? isActor : !isActor;
}

function includesName(names: readonly string[], value: string | null | undefined): boolean {
  if (!value) return false;
  const wanted = value.toLowerCase();
  return names.some((name) => name.toLowerCase() === wanted);
}
