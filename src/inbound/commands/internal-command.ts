import type { CommandHandler } from './types.js';

/** `#internal`: keep this reply as an internal note that customers never see. */
export const internalCommand: CommandHandler = {
  name: 'internal',
  aliases: ['note'],
  usage: '#internal',
  // An argument is ignored rather than rejected: failing here would publish a reply
  // that its writer meant to keep internal.
  async apply(context) {
    context.flags.internal = true;
    return { ok: true, summary: 'kept as an internal note' };
  },
};
