import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailboxCommand, runMailboxCommand } from '../../src/cli/commands/mailbox.ts';
import { UsageError } from '../../src/cli/types.ts';
import { decryptSecret } from '../../src/imap/credentials.ts';
import { createImapTestContext, type ImapTestContext } from './imap-context.ts';

describe('mailbox command', () => {
  let context: ImapTestContext;
  let passwordFile: string;

  beforeAll(async () => {
    context = await createImapTestContext();
    passwordFile = path.join(context.dataDir, 'imap-password.txt');
    await writeFile(passwordFile, 'file-secret-1\n');
    await context.prisma.department.create({ data: { name: 'Support' } });
  });

  afterAll(async () => {
    await context?.close();
  });

  async function run(args: string[], stdin?: string): Promise<{ code: number; output: string[] }> {
    const output: string[] = [];
    const code = await runMailboxCommand(args, {
      prisma: context.prisma,
      config: context.config,
      out: (line) => output.push(line),
      ...(stdin === undefined ? {} : { stdin: Readable.from([Buffer.from(stdin)]) }),
    });
    return { code, output };
  }

  function stored(name: string) {
    return context.prisma.mailbox.findUniqueOrThrow({ where: { name } });
  }

  it('adds a mailbox with a password file', async () => {
    const { code, output } = await run(['add', 'support', '--host', 'imap.example.com', '--user', 'support@example.com', '--password-file', passwordFile, '--department', 'Support', '--address', 'Support@Example.com']);

    expect(code).toBe(0);
    expect(output).toEqual([expect.stringMatching(/^added mailbox support \(id \d+\): support@example.com@imap.example.com:993, enabled$/)]);
    const row = await stored('support');
    expect(row.tls).toBe(true);
    expect(row.authMethod).toBe('password');
    expect(row.processedAction).toBe('move');
    expect(row.processedFolder).toBe('Postdesk/Processed');
    expect(row.address).toBe('support@example.com');
    expect(row.secretEncrypted).not.toContain('file-secret-1');
    expect(decryptSecret(row.secretEncrypted, context.config.credentialKey)).toBe('file-secret-1');
  });

  it('adds an XOAUTH2 mailbox from standard input', async () => {
    const { code } = await run(['add', 'office', '--host', 'outlook.office365.com', '--user', 'desk@example.com', '--token-stdin', '--processed-action', 'flag', '--import-existing'], 'token-abc\n');

    expect(code).toBe(0);
    const row = await stored('office');
    expect(row.authMethod).toBe('xoauth2');
    expect(row.processedAction).toBe('flag');
    expect(row.processedFolder).toBeNull();
    expect(row.importExisting).toBe(true);
    expect(decryptSecret(row.secretEncrypted, context.config.credentialKey)).toBe('token-abc');
  });

  it('rejects invalid additions', async () => {
    const cases: [string[], RegExp][] = [
      [['add', 'nohost', '--user', 'u', '--password-file', passwordFile], /missing --host/],
      [['add', 'nosecret', '--host', 'h', '--user', 'u'], /missing password or token/],
      [['add', 'support', '--host', 'h', '--user', 'u', '--password-file', passwordFile], /already exists/],
      [['add', 'env', '--host', 'h', '--user', 'u', '--password-file', passwordFile], /reserved/],
      [['add', 'baddept', '--host', 'h', '--user', 'u', '--password-file', passwordFile, '--department', 'Nowhere'], /no department named "Nowhere"/],
      [['add', 'badport', '--host', 'h', '--user', 'u', '--password-file', passwordFile, '--port', '70000'], /invalid --port "70000"/],
      [['add', 'badaction', '--host', 'h', '--user', 'u', '--password-file', passwordFile, '--processed-action', 'delete'], /invalid --processed-action/],
      [['add', 'two', '--host', 'h', '--user', 'u', '--password-file', passwordFile, '--token-stdin'], /give only one of/],
      [['add', 'missingfile', '--host', 'h', '--user', 'u', '--password-file', '/nonexistent/secret'], /cannot read \/nonexistent\/secret: ENOENT/],
      [['frobnicate'], /unknown subcommand "mailbox frobnicate"/],
    ];

    for (const [args, message] of cases) {
      await expect(run(args), args.join(' ')).rejects.toThrow(message);
    }
    await expect(run(['add', 'x'])).rejects.toBeInstanceOf(UsageError);
    expect(await context.prisma.mailbox.count()).toBe(2);
  });

  it('lists and shows mailboxes without secrets', async () => {
    const list = await run(['list']);
    const show = await run(['show', 'support']);

    expect(list.code).toBe(0);
    expect(list.output[0]).toMatch(/^ID\s+NAME\s+SERVER\s+FOLDER\s+PROCESSED\s+STATUS\s+BACKLOG$/);
    expect(list.output.slice(1).map((line) => line.split(/\s+/)[1])).toEqual(['office', 'support']);
    expect(show.output).toContain('department:       Support');
    expect(show.output).toContain('position:         not connected yet');
    expect(show.output).toContain('status:           never connected: no poll has completed yet');
    expect([...list.output, ...show.output].join('\n')).not.toMatch(/file-secret-1|token-abc|v1:/);
  });

  it('updates the password and keeps the rest', async () => {
    await context.prisma.mailbox.update({ where: { name: 'support' }, data: { uidValidity: 5n, lastUid: 10n } });

    const { code } = await run(['update', 'support', '--password-stdin'], 'new-secret\n');

    expect(code).toBe(0);
    const row = await stored('support');
    expect(decryptSecret(row.secretEncrypted, context.config.credentialKey)).toBe('new-secret');
    expect(row.host).toBe('imap.example.com');
    expect(row.lastUid).toBe(10n);
  });

  it('resets the position when the server changes', async () => {
    const { code, output } = await run(['update', 'support', '--host', 'imap2.example.com', '--no-tls', '--port', '143']);

    expect(code).toBe(0);
    expect(output[0]).toContain('starts again as on a first connection');
    const row = await stored('support');
    expect(row.tls).toBe(false);
    expect(row.uidValidity).toBeNull();
    expect(row.lastUid).toBeNull();
    expect(decryptSecret(row.secretEncrypted, context.config.credentialKey)).toBe('new-secret');
  });

  it('reports health with an exit code', async () => {
    await context.prisma.mailbox.update({ where: { name: 'support' }, data: { lastSuccessAt: new Date('2026-01-01T10:00:00Z'), lastError: 'login as support was rejected', lastErrorAt: new Date('2026-01-01T11:00:00Z') } });
    await context.prisma.mailbox.update({ where: { name: 'office' }, data: { lastSuccessAt: new Date('2026-01-01T12:00:00Z'), connected: true, backlog: 3 } });

    const all = await run(['health']);
    const office = await run(['health', 'office']);

    expect(all.code).toBe(1);
    expect(all.output.find((line) => line.startsWith('support'))).toMatch(/^support\s+failing\s+no\s+0\s+2026-01-01 10:00 UTC\s+2026-01-01 11:00 UTC login as support was rejected$/);
    expect(office.code).toBe(0);
    expect(office.output[1]).toMatch(/^office\s+ok\s+yes\s+3\s+2026-01-01 12:00 UTC$/);
  });

  it('disables, enables and removes a mailbox', async () => {
    await run(['disable', 'office']);
    const disabled = await stored('office');
    await run(['enable', String(disabled.id)]);
    const enabled = await stored('office');
    const removal = await run(['remove', 'office']);

    expect(disabled.enabled).toBe(false);
    expect(enabled.enabled).toBe(true);
    expect(removal.output[0]).toMatch(/^removed mailbox office/);
    expect(await context.prisma.mailbox.findUnique({ where: { name: 'office' } })).toBeNull();
    await expect(run(['show', 'office'])).rejects.toThrow(/no mailbox named or numbered "office"/);
  });

  it('is registered as a CLI command', () => {
    expect(mailboxCommand.name).toBe('mailbox');
    expect(mailboxCommand.usage).toContain('mailbox add NAME');
  });
});
