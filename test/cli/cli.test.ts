import { rename } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run-cli.js';
import { createLogger } from '../../src/logger.js';
import { verifyThreadToken } from '../../src/mail/thread-token.js';
import { createTestApp } from '../helpers/app.js';
import { handwrittenMessage } from '../helpers/messages.js';
import { sendRaw } from '../helpers/smtp-client.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('postdesk CLI', () => {
  let harness: Awaited<ReturnType<typeof createTestApp>>;

  beforeAll(async () => {
    harness = await createTestApp();
  });

  afterAll(async () => {
    await harness.cleanup();
  });

  async function cli(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, harness.config, createLogger('silent'), (line) => out.push(line), (line) => err.push(line));
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  async function deliver(subject: string, text: string) {
    const reply = await sendRaw(harness.app.smtp!.port, handwrittenMessage({ from: 'Mia <mia@customer.test>', to: 'support@example.test', subject, text }).raw, { from: 'mia@customer.test', to: ['support@example.test'] });
    await harness.app.idle();
    return /queued as (\S+)/.exec(reply)![1]!;
  }

  it('creates users and rejects bad values', async () => {
    const manager = await cli('user', 'create', '--email', 'Boss@Example.test', '--role', 'manager');
    const employee = await cli('user', 'create', '--email', 'worker@example.test', '--name', 'Worker', '--role', 'employee', '--manager', 'boss@example.test');
    const badRole = await cli('user', 'create', '--email', 'x@example.test', '--role', 'wizard');
    const duplicate = await cli('user', 'create', '--email', 'worker@example.test');
    const list = await cli('user', 'list');

    expect(manager.code).toBe(0);
    expect(employee.out).toContain('with role employee');
    expect(badRole.code).toBe(64);
    expect(badRole.err).toContain('invalid --role "wizard"');
    expect(duplicate.code).toBe(64);
    expect(duplicate.err).toContain('exists already');
    expect(list.out).toMatch(/worker@example\.test\s+Worker\s+employee\s+boss@example\.test/);
  });

  it('lists and shows tasks with comments and history', async () => {
    await deliver('CLI listing', 'Body of the query.');

    const list = await cli('task', 'list');
    const taskNumber = /#(\d+)\s+new\s+normal\s+mia@customer\.test\s+.*CLI listing/.exec(list.out)?.[1];
    const show = await cli('task', 'show', `#${taskNumber}`);
    const missing = await cli('task', 'show', '99999');

    expect(taskNumber).toBeDefined();
    expect(show.out).toContain('CLI listing');
    expect(show.out).toContain('  Body of the query.');
    expect(show.out).toMatch(/created CLI listing\s+by mia@customer\.test via email/);
    expect(missing.code).toBe(1);
  });

  it('says when a list is cut at its limit', async () => {
    await deliver('CLI limit one', 'First.');
    await deliver('CLI limit two', 'Second.');

    const tasks = await cli('task', 'list', '--limit', '1');
    const entries = await cli('journal', 'list', '--limit', '1');
    const total = await harness.app.prisma.task.count();
    const all = await cli('task', 'list', '--limit', String(total));

    expect(tasks.out).toContain('CLI limit two');
    expect(tasks.out).not.toContain('CLI limit one');
    expect(tasks.out).toContain(`(the newest 1 of ${total} are shown; use --limit N to see more)`);
    expect(entries.out).toMatch(/\(the newest 1 of \d+ are shown; use --limit N to see more\)/);
    expect(all.out).not.toContain('are shown');
  });

  it('prints a reply address whose token names the task and the person', async () => {
    await deliver('CLI reply address', 'Hello.');
    const task = await harness.app.prisma.task.findFirstOrThrow({ where: { subject: 'CLI reply address' } });

    const result = await cli('reply-address', '--task', String(task.id), '--user', 'mia@customer.test');

    const match = /^support\+([^@]+)@example\.test$/.exec(result.out);
    expect(match).not.toBeNull();
    expect(verifyThreadToken(harness.config.threadTokenSecret, match![1]!)).toEqual({ taskId: task.id, userId: task.authorId });
  });

  it('lists the journal and retries a failed message', async () => {
    const journalId = await deliver('Retry me', 'Hello.');
    const entry = await harness.app.prisma.inboundMessage.findUniqueOrThrow({ where: { id: journalId } });
    const rawFile = path.join(harness.dataDir, 'journal', entry.rawPath);
    await harness.app.prisma.inboundMessage.update({ where: { id: journalId }, data: { status: 'pending' } });
    await harness.app.prisma.processedMessage.delete({ where: { dedupeKey: entry.dedupeKey } });
    await harness.app.prisma.task.delete({ where: { id: entry.taskId! } });
    await rename(rawFile, `${rawFile}.moved`);
    await harness.app.processor!.processEntry(journalId);

    const failed = await cli('journal', 'list', '--status', 'failed');
    await rename(`${rawFile}.moved`, rawFile);
    const retry = await cli('journal', 'retry', journalId);
    const show = await cli('journal', 'show', journalId);

    expect(failed.out).toContain(journalId);
    expect(failed.out).toContain('ENOENT');
    expect(retry.code).toBe(0);
    expect(retry.out).toMatch(new RegExp(`${journalId}: processed \\(task #\\d+\\)`));
    expect(show.out).toMatch(/status\s+processed/);
    expect(await harness.app.prisma.task.count({ where: { subject: 'Retry me' } })).toBe(1);
  });

  it('runs from npm with migrations and a config error', () => {
    const ok = spawnSync('npm', ['run', '--silent', 'postdesk', '--', 'task', 'list'], { cwd: root, env: { ...process.env, POSTDESK_DATA_DIR: harness.dataDir }, encoding: 'utf8' });
    const bad = spawnSync('npm', ['run', '--silent', 'postdesk', '--', 'task', 'list'], { cwd: root, env: { ...process.env, POSTDESK_DATA_DIR: harness.dataDir, SMTP_PORT: 'twenty-five' }, encoding: 'utf8' });

    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('CLI listing');
    expect(bad.status).toBe(78);
    expect(bad.stderr).toContain('SMTP_PORT');
  });
});
