import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { sendRaw } from '../helpers/smtp-client.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

async function listEml(folder: string): Promise<string[]> {
  return (await readdir(path.join(fixtures, folder))).filter((name) => name.endsWith('.eml')).sort().map((name) => path.join(folder, name));
}

// Every real message is sent over a real SMTP session: each must be accepted,
// journaled and processed or marked failed, and the server must stay up.
describe('real mail corpus over SMTP', () => {
  let harness: Awaited<ReturnType<typeof createTestApp>>;
  const outcomes = new Map<string, { reply: string; status: string; kind: string | null; taskId: number | null; error: string | null }>();

  beforeAll(async () => {
    harness = await createTestApp();
    const files = [...(await listEml('bounces')), ...(await listEml('mime/rfc')), ...(await listEml('mime/malformed'))];
    for (const file of files) {
      const raw = await readFile(path.join(fixtures, file));
      const before = await harness.app.prisma.inboundMessage.findFirst({ orderBy: { receivedAt: 'desc' }, select: { id: true } });
      const reply = await sendRaw(harness.app.smtp!.port, raw, { from: 'sender@corpus.test', to: ['support@example.test'] });
      await harness.app.idle();
      const entry = await harness.app.prisma.inboundMessage.findFirstOrThrow({ where: before ? { id: { gt: before.id } } : {}, orderBy: { id: 'desc' } });
      outcomes.set(file, { reply, status: entry.status, kind: entry.kind, taskId: entry.taskId, error: entry.error });
    }
  }, 300_000);

  afterAll(async () => {
    await harness.cleanup();
  });

  it('accepts and journals every message', () => {
    expect(outcomes.size).toBeGreaterThan(200);
    for (const [file, outcome] of outcomes) {
      expect(outcome.reply, file).toMatch(/^250 /);
      expect(['processed', 'ignored', 'failed', 'duplicate'], file).toContain(outcome.status);
    }
  });

  it('opens no task for delivery reports and automatic mail', () => {
    const automatic = [...outcomes].filter(([file]) => /bounces\/(lhost-|rhost-|rfc3464-|arf-|rfc3834-|rb-issue)/.test(file));
    expect(automatic.length).toBeGreaterThan(150);
    for (const [file, outcome] of automatic) {
      expect(outcome.kind, file).not.toBe('normal');
      expect(outcome.status === 'ignored' || outcome.status === 'duplicate', `${file}: ${outcome.status}`).toBe(true);
    }
  });

  it('opens tasks for the ordinary mails among the bounces', () => {
    for (const name of ['bounces/is-not-bounce-01.eml', 'bounces/is-not-bounce-02.eml']) {
      const outcome = outcomes.get(name)!;
      expect(outcome.status, name).toBe('processed');
      expect(outcome.kind, name).toBe('normal');
      expect(outcome.taskId, name).not.toBeNull();
    }
  });

  it('processes well-formed MIME into tasks', () => {
    for (const [file, outcome] of outcomes) {
      if (!file.startsWith('mime/rfc/')) continue;
      expect(outcome.status === 'processed' || outcome.status === 'ignored' || outcome.status === 'duplicate', `${file}: ${outcome.error}`).toBe(true);
    }
  });

  it('keeps failed messages retryable with a reason', async () => {
    const failed = await harness.app.prisma.inboundMessage.findMany({ where: { status: 'failed' } });
    for (const entry of failed) expect(entry.error, entry.id).toBeTruthy();
  });

  it('stays up after the malformed messages', async () => {
    const reply = await sendRaw(harness.app.smtp!.port, 'From: a@b.test\r\nSubject: still alive\r\nMessage-ID: <alive@b.test>\r\n\r\nhello\r\n', { from: 'a@b.test', to: ['support@example.test'] });
    expect(reply).toMatch(/^250 /);
  });
});
