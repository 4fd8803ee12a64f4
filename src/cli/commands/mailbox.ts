import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { Config } from '../../config/index.js';
import type { PrismaClient } from '../../db/client.js';
import { describeStoredHealth } from '../../imap/health.js';
import {
  createMailbox,
  ENV_MAILBOX_NAME,
  findMailbox,
  listMailboxes,
  MailboxSettingsError,
  removeMailbox,
  setMailboxEnabled,
  settingsOf,
  updateMailbox,
  type Mailbox,
  type MailboxChanges,
} from '../../imap/mailbox-store.js';
import { formatDate, formatTable } from '../format.js';
import { UsageError, type CliCommand } from '../types.js';

/** Dependencies of the mailbox command. `stdin` defaults to the process's standard input. */
export interface MailboxCommandDeps {
  prisma: PrismaClient;
  config: Config;
  out: (line: string) => void;
  stdin?: Readable;
}

const SETTING_OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  'no-tls': { type: 'boolean' },
  tls: { type: 'boolean' },
  user: { type: 'string' },
  'password-file': { type: 'string' },
  'password-stdin': { type: 'boolean' },
  'token-file': { type: 'string' },
  'token-stdin': { type: 'boolean' },
  folder: { type: 'string' },
  'processed-action': { type: 'string' },
  'processed-folder': { type: 'string' },
  'import-existing': { type: 'boolean' },
  'start-from-now': { type: 'boolean' },
  department: { type: 'string' },
  address: { type: 'string' },
  disabled: { type: 'boolean' },
} as const;

type SettingValues = ReturnType<typeof parseSettingArgs>['values'];

const USAGE = [
  'mailbox add NAME --host HOST --user USER (--password-file FILE | --password-stdin | --token-file FILE | --token-stdin)',
  '    [--port N] [--no-tls] [--folder INBOX] [--processed-action move|flag] [--processed-folder Postdesk/Processed]',
  '    [--import-existing] [--department NAME] [--address ADDRESS] [--disabled]',
  'mailbox update NAME|ID [the options of add; a password or token only to replace it] [--tls] [--start-from-now]',
  'mailbox list',
  'mailbox show NAME|ID',
  'mailbox remove NAME|ID',
  'mailbox enable NAME|ID',
  'mailbox disable NAME|ID',
  'mailbox health [NAME|ID]      exit code 1 when an enabled mailbox is failing',
  '',
  'Folders use "/" between levels whatever the server\'s delimiter. --token-* stores an OAuth2',
  'access token for XOAUTH2 (Microsoft 365, Google). Without --no-tls the port defaults to 993',
  '(IMAP over TLS); with it, to 143, upgraded with STARTTLS when the server offers it.',
].join('\n');

/** `postdesk mailbox ...`: configure the IMAP mailboxes that feed the helpdesk. */
export const mailboxCommand: CliCommand = {
  name: 'mailbox',
  summary: 'add, change, list and check IMAP mailboxes',
  usage: USAGE,
  run: (args, deps) => runMailboxCommand(args, deps),
};

/** Runs one mailbox subcommand. Returns the exit code; throws UsageError for a usage mistake. */
export async function runMailboxCommand(args: string[], deps: MailboxCommandDeps): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'add':
      return addMailbox(rest, deps);
    case 'update':
      return changeMailbox(rest, deps);
    case 'list':
      return listCommand(deps);
    case 'show':
      return showCommand(await requireMailbox(rest, deps), deps);
    case 'remove':
      return removeCommand(await requireMailbox(rest, deps), deps);
    case 'enable':
    case 'disable':
      return enableCommand(await requireMailbox(rest, deps), sub === 'enable', deps);
    case 'health':
      return healthCommand(rest, deps);
    default:
      throw new UsageError(sub ? `unknown subcommand "mailbox ${sub}"` : 'missing subcommand');
  }
}

function parseSettingArgs(args: string[]) {
  return parseArgs({ args, allowPositionals: true, options: SETTING_OPTIONS });
}

async function addMailbox(args: string[], deps: MailboxCommandDeps): Promise<number> {
  const { values, positionals } = parseSettingArgs(args);
  const name = singlePositional(positionals, 'NAME');
  const secret = await readSecret(values, deps);
  if (!secret) throw new UsageError('missing password or token: give --password-file, --password-stdin, --token-file or --token-stdin');
  if (!values.host) throw new UsageError('missing --host');
  if (!values.user) throw new UsageError('missing --user');

  const tls = !values['no-tls'];
  const processedAction = parseProcessedAction(values['processed-action'] ?? 'move');
  const settings = {
    name,
    host: values.host,
    port: parsePort(values.port ?? (tls ? '993' : '143')),
    tls,
    user: values.user,
    authMethod: secret.authMethod,
    secret: secret.value,
    folder: values.folder ?? 'INBOX',
    processedAction,
    processedFolder: processedAction === 'move' ? (values['processed-folder'] ?? 'Postdesk/Processed') : null,
    importExisting: values['import-existing'] ?? false,
    departmentId: (await resolveDepartment(values.department, deps)) ?? null,
    address: values.address ?? null,
    enabled: !values.disabled,
  };

  const mailbox = await withSettingsErrors(() => createMailbox(deps.prisma, settings, deps.config.credentialKey));
  deps.out(`added mailbox ${mailbox.name} (id ${mailbox.id}): ${describeServer(mailbox)}, ${mailbox.enabled ? 'enabled' : 'disabled'}`);
  return 0;
}

async function changeMailbox(args: string[], deps: MailboxCommandDeps): Promise<number> {
  const { values, positionals } = parseSettingArgs(args);
  const existing = await requireMailbox(positionals, deps);
  rejectEnvironmentMailboxChange(existing, 'update');
  const current = settingsOf(existing);
  const secret = await readSecret(values, deps);
  const processedAction = values['processed-action'] ? parseProcessedAction(values['processed-action']) : current.processedAction;
  const department = await resolveDepartment(values.department, deps);

  const settings: MailboxChanges = {
    ...current,
    ...(values.host ? { host: values.host } : {}),
    ...(values.port ? { port: parsePort(values.port) } : {}),
    ...(values.tls ? { tls: true } : {}),
    ...(values['no-tls'] ? { tls: false } : {}),
    ...(values.user ? { user: values.user } : {}),
    ...(secret ? { secret: secret.value, authMethod: secret.authMethod } : {}),
    ...(values.folder ? { folder: values.folder } : {}),
    processedAction,
    processedFolder: processedAction === 'move' ? (values['processed-folder'] ?? current.processedFolder ?? 'Postdesk/Processed') : null,
    ...(values['import-existing'] ? { importExisting: true } : {}),
    ...(values['start-from-now'] ? { importExisting: false } : {}),
    ...(department !== undefined ? { departmentId: department } : {}),
    ...(values.address !== undefined ? { address: values.address === 'none' ? null : values.address } : {}),
    ...(values.disabled ? { enabled: false } : {}),
  };

  const mailbox = await withSettingsErrors(() => updateMailbox(deps.prisma, existing, settings, deps.config.credentialKey));
  deps.out(`updated mailbox ${mailbox.name} (id ${mailbox.id}): ${describeServer(mailbox)}${mailbox.uidValidity === null ? '; it starts again as on a first connection' : ''}`);
  return 0;
}

async function listCommand(deps: MailboxCommandDeps): Promise<number> {
  const mailboxes = await listMailboxes(deps.prisma);
  if (mailboxes.length === 0) {
    deps.out('no mailboxes; add one with "postdesk mailbox add"');
    return 0;
  }
  const rows = mailboxes.map((mailbox) => [mailbox.id, mailbox.name, describeServer(mailbox), mailbox.folder, describeAction(mailbox), describeStoredHealth(mailbox).status, mailbox.backlog]);
  for (const line of formatTable(['ID', 'NAME', 'SERVER', 'FOLDER', 'PROCESSED', 'STATUS', 'BACKLOG'], rows)) deps.out(line);
  return 0;
}

async function showCommand(mailbox: Mailbox, deps: MailboxCommandDeps): Promise<number> {
  const department = mailbox.departmentId === null ? null : await deps.prisma.department.findUnique({ where: { id: mailbox.departmentId } });
  const health = describeStoredHealth(mailbox);
  const fields: [string, string | number][] = [
    ['id', mailbox.id],
    ['name', mailbox.name],
    ['server', describeServer(mailbox)],
    ['connection', mailbox.tls ? 'TLS' : 'plain, STARTTLS when offered'],
    ['login', mailbox.authMethod === 'xoauth2' ? 'XOAUTH2 access token (stored encrypted)' : 'password (stored encrypted)'],
    ['folder', mailbox.folder],
    ['processed mail', describeAction(mailbox)],
    ['first connection', mailbox.importExisting ? 'imports the mail already there, mailing nobody' : 'starts with mail that arrives from then on'],
    ['department', department?.name ?? ''],
    ['address', mailbox.address ?? ''],
    ['enabled', mailbox.enabled ? 'yes' : 'no'],
    ['position', mailbox.uidValidity === null ? 'not connected yet' : `UIDVALIDITY ${mailbox.uidValidity}, last UID ${mailbox.lastUid ?? 0}`],
    ['status', `${health.status}: ${health.detail}`],
    ['connected', mailbox.connected ? 'yes' : 'no'],
    ['last success', formatDate(mailbox.lastSuccessAt)],
    ['last error', mailbox.lastError ? `${mailbox.lastError} (${formatDate(mailbox.lastErrorAt)})` : ''],
    ['backlog', mailbox.backlog],
  ];
  for (const [label, value] of fields) deps.out(`${`${label}:`.padEnd(18)}${value}`);
  return 0;
}

async function removeCommand(mailbox: Mailbox, deps: MailboxCommandDeps): Promise<number> {
  if (mailbox.name === ENV_MAILBOX_NAME && deps.config.imap) rejectEnvironmentMailboxChange(mailbox, 'remove');
  await removeMailbox(deps.prisma, mailbox.id);
  deps.out(`removed mailbox ${mailbox.name} (id ${mailbox.id}); its journaled messages are kept`);
  return 0;
}

async function enableCommand(mailbox: Mailbox, enabled: boolean, deps: MailboxCommandDeps): Promise<number> {
  await setMailboxEnabled(deps.prisma, mailbox.id, enabled);
  deps.out(`${enabled ? 'enabled' : 'disabled'} mailbox ${mailbox.name}; running pollers pick this up within 30 seconds`);
  return 0;
}

async function healthCommand(args: string[], deps: MailboxCommandDeps): Promise<number> {
  const mailboxes = args.length > 0 ? [await requireMailbox(args, deps)] : await listMailboxes(deps.prisma);
  const rows = mailboxes.map((mailbox) => {
    const health = describeStoredHealth(mailbox);
    return [mailbox.name, health.status, mailbox.connected ? 'yes' : 'no', mailbox.backlog, formatDate(mailbox.lastSuccessAt), mailbox.lastError ? `${formatDate(mailbox.lastErrorAt)} ${mailbox.lastError}` : ''];
  });
  for (const line of formatTable(['NAME', 'STATUS', 'CONNECTED', 'BACKLOG', 'LAST SUCCESS', 'LAST ERROR'], rows)) deps.out(line);
  return mailboxes.some((mailbox) => describeStoredHealth(mailbox).status === 'failing') ? 1 : 0;
}

async function requireMailbox(positionals: string[], deps: MailboxCommandDeps): Promise<Mailbox> {
  const reference = singlePositional(positionals, 'NAME or ID');
  const mailbox = await findMailbox(deps.prisma, reference);
  if (!mailbox) throw new UsageError(`no mailbox named or numbered "${reference}"; "postdesk mailbox list" shows them`);
  return mailbox;
}

function singlePositional(positionals: string[], what: string): string {
  if (positionals.length !== 1 || !positionals[0]) throw new UsageError(positionals.length === 0 ? `missing ${what}` : `expected one ${what}, got ${positionals.length} arguments`);
  return positionals[0];
}

/** Reads the password or token from a file or standard input; a trailing line end is dropped. */
async function readSecret(values: SettingValues, deps: MailboxCommandDeps): Promise<{ value: string; authMethod: 'password' | 'xoauth2' } | null> {
  const sources = (['password-file', 'password-stdin', 'token-file', 'token-stdin'] as const).filter((option) => values[option] !== undefined && values[option] !== false);
  if (sources.length > 1) throw new UsageError(`give only one of --${sources.join(', --')}`);
  const source = sources[0];
  if (!source) return null;

  const authMethod = source.startsWith('token') ? 'xoauth2' : 'password';
  const raw = source.endsWith('-file') ? await readSecretFile(String(values[source])) : await readStream(deps.stdin ?? process.stdin);
  const value = raw.replace(/\r?\n$/, '');
  if (value === '') throw new UsageError(`the ${authMethod === 'xoauth2' ? 'token' : 'password'} given by --${source} is empty`);
  return { value, authMethod };
}

async function readSecretFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

async function readStream(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) throw new UsageError(`invalid --port "${value}"; expected 1-65535`);
  return port;
}

function parseProcessedAction(value: string): 'move' | 'flag' {
  if (value !== 'move' && value !== 'flag') throw new UsageError(`invalid --processed-action "${value}"; use move or flag`);
  return value;
}

async function resolveDepartment(name: string | undefined, deps: MailboxCommandDeps): Promise<number | null | undefined> {
  if (name === undefined) return undefined;
  if (name === 'none') return null;
  const department = await deps.prisma.department.findUnique({ where: { name } });
  if (!department) throw new UsageError(`no department named "${name}"; create it with "department create"`);
  return department.id;
}

function rejectEnvironmentMailboxChange(mailbox: Mailbox, action: string): void {
  if (mailbox.name !== ENV_MAILBOX_NAME) return;
  throw new UsageError(`cannot ${action} mailbox "${ENV_MAILBOX_NAME}": the IMAP_* variables set it; change them and restart`);
}

async function withSettingsErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof MailboxSettingsError) throw new UsageError(error.problems.join('; '));
    throw error;
  }
}

function describeServer(mailbox: Mailbox): string {
  return `${mailbox.user}@${mailbox.host}:${mailbox.port}`;
}

function describeAction(mailbox: Mailbox): string {
  return mailbox.processedAction === 'flag' ? 'flag \\Flagged' : `move to ${mailbox.processedFolder ?? ''}`;
}
