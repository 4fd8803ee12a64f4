import type { User } from '../../db/generated/client.js';
import type { Db } from '../../db/client.js';
import type { HelpdeskAddress } from '../../config/index.js';
import { matchHelpdeskAddress, splitAddress } from '../../mail/addresses.js';
import type { DomainEvent } from '../../tasks/events.js';
import { findAcknowledgementBlock } from './acknowledgement.js';
import { allowsRecipient, matchesConditions } from './conditions.js';
import { loadEventFacts, type EventFacts } from './facts.js';
import { describeSelector, resolveSelector } from './recipients.js';
import { DEFAULT_TEMPLATES, type MailTemplate, type StoredRule } from './types.js';

/** One person to mail about an event, with every rule that chose them. */
export interface PlannedDelivery {
  user: User;
  /** Template of the first matching rule, in rule id order. */
  template: MailTemplate;
  rules: string[];
  /** `rule name: selector` for each match, shown in previews and mails. */
  reasons: string[];
}

/** Reason a person chosen by a rule is not mailed. */
export type SkipReason = 'inactive' | 'internal-note-to-customer' | 'address-failing' | 'helpdesk-address' | 'no-reply-address' | 'automatic-query' | 'acknowledgement-limit';

/** A person a rule chose but who is not mailed. */
export interface SkippedRecipient {
  user: User;
  rules: string[];
  reason: SkipReason;
  detail: string;
}

/** Outcome of planning: the people mailed about an event, and the people skipped with the reason. */
export interface NotificationPlan {
  facts: EventFacts | null;
  deliveries: PlannedDelivery[];
  skipped: SkippedRecipient[];
}

/** Settings that planning reads from the configuration. */
export interface PlanSettings {
  maxAcknowledgementsPerSenderPerDay: number;
  helpdeskAddresses: readonly HelpdeskAddress[];
  catchAllDomains: readonly string[];
  now: Date;
}

/**
 * Mailbox names that are unattended by convention or belong to mail software (bounces,
 * list managers). Mail to them is wasted at best and starts loops at worst.
 */
const NO_REPLY_LOCAL_PART = /^(no-?reply|do-?not-?reply|mailer-daemon|postmaster|bounces?|owner-.+|.+-request|.+-owner)$/;

/**
 * Decide who gets mail about an event: run every rule that listens to it, merge the
 * people they choose so that each gets one mail, then drop the people who must not
 * get it. Reads only, so previews use it too.
 */
export async function planNotifications(db: Db, event: DomainEvent, rules: readonly StoredRule[], settings: PlanSettings): Promise<NotificationPlan> {
  if (!event.notify) return { facts: null, deliveries: [], skipped: [] };
  const facts = await loadEventFacts(db, event);
  if (!facts) return { facts: null, deliveries: [], skipped: [] };

  const chosen = await chooseRecipients(db, facts, rules);

  const deliveries: PlannedDelivery[] = [];
  const skipped: SkippedRecipient[] = [];
  for (const delivery of chosen) {
    const block = await findBlock(db, facts, delivery, settings);
    if (block) skipped.push({ user: delivery.user, rules: delivery.rules, ...block });
    else deliveries.push(delivery);
  }
  return { facts, deliveries, skipped };
}

async function chooseRecipients(db: Db, facts: EventFacts, rules: readonly StoredRule[]): Promise<PlannedDelivery[]> {
  const byUser = new Map<number, PlannedDelivery>();

  for (const rule of rules) {
    if (!rule.enabled || !rule.events.includes(facts.event.name)) continue;
    if (!matchesConditions(rule.conditions, facts)) continue;

    for (const selector of rule.recipients) {
      for (const user of await resolveSelector(db, selector, facts)) {
        if (!allowsRecipient(rule.conditions, facts, user.id)) continue;

        const reason = `${rule.name}: ${describeSelector(selector)}`;
        const existing = byUser.get(user.id);
        if (!existing) {
          byUser.set(user.id, { user, template: rule.template ?? DEFAULT_TEMPLATES[facts.event.name], rules: [rule.name], reasons: [reason] });
          continue;
        }
        if (!existing.rules.includes(rule.name)) existing.rules.push(rule.name);
        if (!existing.reasons.includes(reason)) existing.reasons.push(reason);
      }
    }
  }
  return [...byUser.values()];
}

/** Find the first reason not to mail a chosen person, or null. The checks run in the order written. */
async function findBlock(db: Db, facts: EventFacts, delivery: PlannedDelivery, settings: PlanSettings): Promise<{ reason: SkipReason; detail: string } | null> {
  const { user } = delivery;

  if (!user.active) return { reason: 'inactive', detail: 'the user is inactive' };
  if (user.role === 'customer' && facts.event.name === 'comment.internal') {
    return { reason: 'internal-note-to-customer', detail: 'customers never receive internal notes' };
  }
  if (user.emailFailingSince) return { reason: 'address-failing', detail: `mail to this address has failed since ${user.emailFailingSince.toISOString()}` };
  if (matchHelpdeskAddress(user.email, settings.helpdeskAddresses, settings.catchAllDomains)) {
    return { reason: 'helpdesk-address', detail: 'the address is one of the helpdesk addresses' };
  }
  if (NO_REPLY_LOCAL_PART.test(splitAddress(user.email)?.local ?? '')) return { reason: 'no-reply-address', detail: 'the address does not take replies' };

  if (delivery.template === 'acknowledgement') {
    return findAcknowledgementBlock(db, facts, user, settings.maxAcknowledgementsPerSenderPerDay, settings.now);
  }
  return null;
}
