import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { handwrittenMessage } from '../helpers/messages.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { sendRaw } from '../helpers/smtp-client.js';

// These tests run the real server (`src/main.ts`) in a child process and kill it with
// SIGKILL, so nothing gets a chance to flush or clean up.
describe('crash recovery', () => {
  const cleanups: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  async function setUp() {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'postdesk-crash-'));
    const env = { POSTDESK_DATA_DIR: dataDir, MAIL_DOMAIN: 'example.test' };
    const servers: ServerProcess[] = [];
    cleanups.push(async () => {
      for (const server of servers) await server.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    });
    const start = async (roles: string[] = []) => {
      const server = await startServerProcess(env, roles);
      servers.push(server);
      return server;
    };
    return { dataDir, start };
  }

  it('processes a message once after a kill between the 250 and processing', async () => {
    const { dataDir, start } = await setUp();
    // The intake-only role journals and replies 250 but never processes, which is the state a crash right after the 250 leaves.
    const intake = await start(['smtp']);
    const { raw, messageId } = handwrittenMessage({ from: 'zoe@customer.test', to: 'support@example.test', subject: 'Killed after 250', text: 'Do not lose me.' });

    const reply = await sendRaw(intake.smtpPort, raw, { from: 'zoe@customer.test', to: ['support@example.test'] });
    await intake.kill('SIGKILL');
    const server = await start();
    await server.waitForLog((line) => line.msg === 'message processed' && line.messageId === messageId);
    await server.kill('SIGTERM');
    const restarted = await start();
    await restarted.kill('SIGTERM');

    expect(reply).toMatch(/^250 /);
    const prisma = await openDatabase(`file:${path.join(dataDir, 'postdesk.db')}`);
    try {
      expect(await prisma.task.count({ where: { subject: 'Killed after 250' } })).toBe(1);
      expect(await prisma.inboundMessage.count({ where: { messageId } })).toBe(1);
      expect(await prisma.comment.count()).toBe(1);
    } finally {
      await prisma.$disconnect();
    }
  });

  it('loses and repeats nothing when killed during a burst', async () => {
    const { dataDir, start } = await setUp();
    const server = await start();
    const messages = Array.from({ length: 25 }, (_, index) => handwrittenMessage({ from: 'yan@customer.test', to: 'support@example.test', subject: `Burst ${index}`, text: `Message ${index}.` }));

    const replies = await Promise.all(messages.map((message) => sendRaw(server.smtpPort, message.raw, { from: 'yan@customer.test', to: ['support@example.test'] })));
    await server.kill('SIGKILL');
    // The restarted server registers what is in the spool and queues it before it listens.
    const restarted = await start();
    const prisma = await openDatabase(`file:${path.join(dataDir, 'postdesk.db')}`);
    try {
      for (let attempt = 0; attempt < 100 && (await prisma.inboundMessage.count({ where: { status: 'pending' } })) > 0; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await restarted.kill('SIGTERM');

      expect(replies.every((reply) => reply.startsWith('250'))).toBe(true);
      for (const [index] of messages.entries()) {
        expect(await prisma.task.count({ where: { subject: `Burst ${index}` } }), `Burst ${index}`).toBe(1);
      }
      expect(await prisma.inboundMessage.count()).toBe(25);
      expect(await prisma.inboundMessage.count({ where: { status: 'processed' } })).toBe(25);
    } finally {
      await prisma.$disconnect();
    }
  });

  it('processes mail that another process journaled', async () => {
    const { dataDir, start } = await setUp();
    const intake = await start(['smtp']);
    const processing = await start(['inbound']);
    const { raw, messageId } = handwrittenMessage({ from: 'xia@customer.test', to: 'support@example.test', subject: 'Separate roles', text: 'Journaled by one process, processed by another.' });

    await sendRaw(intake.smtpPort, raw, { from: 'xia@customer.test', to: ['support@example.test'] });
    await processing.waitForLog((line) => line.msg === 'message processed' && line.messageId === messageId);
    await intake.kill('SIGTERM');
    await processing.kill('SIGTERM');

    const prisma = await openDatabase(`file:${path.join(dataDir, 'postdesk.db')}`);
    try {
      expect(await prisma.task.count({ where: { subject: 'Separate roles' } })).toBe(1);
    } finally {
      await prisma.$disconnect();
    }
  });
});
