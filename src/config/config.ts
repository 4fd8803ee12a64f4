import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseRelayUrl, RelayUrlError } from './relay-url.js';

/** One address the helpdesk receives mail for, and the department it feeds. */
export interface HelpdeskAddress {
  address: string;
  localPart: string;
  domain: string;
  department?: string;
}

/** The validated, read-only configuration of a Postdesk process. */
export interface Config {
  readonly dataDir: string;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly logLevel: string;
  readonly http: { readonly host: string; readonly port: number };
  readonly smtp: {
    readonly host: string;
    readonly port: number;
    readonly hostname: string;
    readonly maxMessageBytes: number;
    readonly maxRecipients: number;
    readonly maxClients: number;
    readonly tlsKeyPath?: string;
    readonly tlsCertPath?: string;
  };
  readonly mail: {
    readonly domain: string;
    readonly addresses: readonly HelpdeskAddress[];
    /** Domains for which every local part is accepted. */
    readonly catchAllDomains: readonly string[];
    readonly fromName: string;
  };
  readonly attachments: { readonly maxCount: number; readonly maxBytes: number };
  readonly outbound: {
    /** smtp:// or smtps:// URL of a relay; null writes .eml files to `outboxDir` instead. */
    readonly relayUrl: string | null;
    readonly outboxDir: string;
    /** Maximum mails to one recipient in 24 hours; more are held. */
    readonly maxPerRecipientPerDay: number;
    /** Maximum mails about one task in an hour; more are held. */
    readonly maxPerTaskPerHour: number;
    /** Maximum acknowledgements to one sender in 24 hours. */
    readonly maxAcknowledgementsPerSenderPerDay: number;
  };
  /** Prefix of BullMQ queue keys in Redis. */
  readonly queuePrefix: string;
  /** One IMAP mailbox from the environment; more are configured in the database. */
  readonly imap: ImapEnvMailbox | null;
  /** Key (32 bytes) that encrypts stored mailbox credentials. */
  readonly credentialKey: Buffer;
  /** HMAC key for thread tokens. */
  readonly threadTokenSecret: Buffer;
  /** Value of the loop-marker header on our outbound mail. */
  readonly instanceId: string;
}

/** An IMAP mailbox configured by IMAP_* variables. */
export interface ImapEnvMailbox {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly user: string;
  readonly password?: string;
  readonly accessToken?: string;
  readonly folder: string;
  readonly processedAction: 'move' | 'flag';
  readonly processedFolder: string;
  readonly importExisting: boolean;
  readonly department?: string;
}

/** Thrown when the environment contains invalid settings. Its message names every one of them. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';

  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Settings whose values never appear in error messages. */
const SECRET_SETTINGS = new Set(['THREAD_TOKEN_SECRET', 'POSTDESK_CREDENTIAL_KEY', 'IMAP_PASSWORD', 'IMAP_ACCESS_TOKEN', 'SMTP_RELAY_URL']);

const port = z.coerce.number().int().min(0, "must be 0 (any free port) or more").max(65535);
const positiveInt = z.coerce.number().int().positive();
const bytes = z
  .string()
  .regex(/^\d+(\.\d+)?\s*(b|kb|k|mb|m|gb|g)?$/i, 'expected a size such as 25MB or 1048576')
  .transform(parseSize);

const schema = z.object({
  POSTDESK_DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^file:/, 'only SQLite (file:...) is supported in this version')
    .optional(),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'expected redis://host:port').default('redis://127.0.0.1:6379'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_PORT: port.default(3000),
  SMTP_HOST: z.string().min(1).default('127.0.0.1'),
  SMTP_PORT: port.default(2525),
  SMTP_HOSTNAME: z.string().min(1).optional(),
  SMTP_MAX_MESSAGE_SIZE: bytes.default('30MB'),
  SMTP_MAX_RECIPIENTS: positiveInt.default(50),
  SMTP_MAX_CLIENTS: positiveInt.default(200),
  SMTP_TLS_KEY_FILE: z.string().min(1).optional(),
  SMTP_TLS_CERT_FILE: z.string().min(1).optional(),
  MAIL_DOMAIN: z.string().regex(/^[a-z0-9.-]+$/i, 'expected a domain name such as example.com').default('localhost'),
  MAIL_ADDRESSES: z.string().optional(),
  MAIL_CATCH_ALL_DOMAINS: z.string().default(''),
  MAIL_FROM_NAME: z.string().default('Postdesk'),
  ATTACHMENT_MAX_COUNT: positiveInt.default(50),
  ATTACHMENT_MAX_SIZE: bytes.default('25MB'),
  THREAD_TOKEN_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  POSTDESK_INSTANCE_ID: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional(),
  POSTDESK_CREDENTIAL_KEY: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'expected 32 bytes in base64url (43 characters)').optional(),
  SMTP_RELAY_URL: z.string().regex(/^smtps?:\/\/[^\s]+$/, 'expected smtp://[user:password@]host:port or smtps://...').optional(),
  OUTBOX_DIR: z.string().min(1).optional(),
  MAIL_MAX_PER_RECIPIENT_PER_DAY: positiveInt.default(100),
  MAIL_MAX_PER_TASK_PER_HOUR: positiveInt.default(30),
  ACK_MAX_PER_SENDER_PER_DAY: positiveInt.default(5),
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/, 'letters, digits, ":", "_" and "-" only').optional(),
  IMAP_HOST: z.string().min(1).optional(),
  IMAP_PORT: port.optional(),
  IMAP_TLS: z.enum(['true', 'false']).default('true'),
  IMAP_USER: z.string().min(1).optional(),
  IMAP_PASSWORD: z.string().min(1).optional(),
  IMAP_ACCESS_TOKEN: z.string().min(1).optional(),
  IMAP_FOLDER: z.string().min(1).default('INBOX'),
  IMAP_PROCESSED_ACTION: z.enum(['move', 'flag']).default('move'),
  IMAP_PROCESSED_FOLDER: z.string().min(1).default('Postdesk/Processed'),
  IMAP_IMPORT_EXISTING: z.enum(['true', 'false']).default('false'),
  IMAP_DEPARTMENT: z.string().min(1).optional(),
});

/**
 * Read the configuration from `env` (normally process.env merged with a .env file),
 * validate all of it and return a frozen object. Throws ConfigError naming every
 * invalid setting at once.
 */
export function loadConfig(rawEnv: Record<string, string | undefined>): Config {
  // An empty value (`SMTP_PORT=` in a .env template) means unset, not zero.
  const env = Object.fromEntries(Object.entries(rawEnv).filter(([, value]) => value !== undefined && value.trim() !== ''));
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const relayProblems = parsed.error.issues.some((issue) => issue.path[0] === 'SMTP_RELAY_URL') ? [] : checkRelayUrl(env.SMTP_RELAY_URL);
    throw new ConfigError([
      ...parsed.error.issues.map((issue) => {
        const name = String(issue.path[0]);
        const shown = SECRET_SETTINGS.has(name) ? 'a value that is not shown because it is secret' : JSON.stringify(env[name]);
        return `${name}: ${issue.message} (got ${shown})`;
      }),
      ...relayProblems,
    ]);
  }
  const values = parsed.data;

  const problems: string[] = [];
  const domain = values.MAIL_DOMAIN.toLowerCase();
  const addresses = parseAddresses(values.MAIL_ADDRESSES ?? `support@${domain}`, problems);
  const catchAllDomains = values.MAIL_CATCH_ALL_DOMAINS.split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean);
  if (Boolean(values.SMTP_TLS_KEY_FILE) !== Boolean(values.SMTP_TLS_CERT_FILE)) {
    problems.push('SMTP_TLS_KEY_FILE and SMTP_TLS_CERT_FILE: set both or neither');
  }
  const imap = parseImapMailbox(values, problems);
  problems.push(...checkRelayUrl(values.SMTP_RELAY_URL));
  if (problems.length > 0) throw new ConfigError(problems);

  const dataDir = path.resolve(values.POSTDESK_DATA_DIR);
  // An absolute path, because the Prisma CLI runs in the project folder, not in the caller's.
  const databaseUrl = `file:${values.DATABASE_URL ? path.resolve(values.DATABASE_URL.slice('file:'.length)) : path.join(dataDir, 'postdesk.db')}`;
  const secrets = loadSecrets(dataDir, values.THREAD_TOKEN_SECRET, values.POSTDESK_INSTANCE_ID, values.POSTDESK_CREDENTIAL_KEY);

  return deepFreeze({
    dataDir,
    databaseUrl,
    redisUrl: values.REDIS_URL,
    logLevel: values.LOG_LEVEL,
    http: { host: values.HTTP_HOST, port: values.HTTP_PORT },
    smtp: {
      host: values.SMTP_HOST,
      port: values.SMTP_PORT,
      hostname: values.SMTP_HOSTNAME ?? domain,
      maxMessageBytes: values.SMTP_MAX_MESSAGE_SIZE,
      maxRecipients: values.SMTP_MAX_RECIPIENTS,
      maxClients: values.SMTP_MAX_CLIENTS,
      ...(values.SMTP_TLS_KEY_FILE ? { tlsKeyPath: values.SMTP_TLS_KEY_FILE } : {}),
      ...(values.SMTP_TLS_CERT_FILE ? { tlsCertPath: values.SMTP_TLS_CERT_FILE } : {}),
    },
    mail: { domain, addresses, catchAllDomains, fromName: values.MAIL_FROM_NAME },
    outbound: {
      relayUrl: values.SMTP_RELAY_URL ?? null,
      outboxDir: path.resolve(values.OUTBOX_DIR ?? path.join(dataDir, 'outbox')),
      maxPerRecipientPerDay: values.MAIL_MAX_PER_RECIPIENT_PER_DAY,
      maxPerTaskPerHour: values.MAIL_MAX_PER_TASK_PER_HOUR,
      maxAcknowledgementsPerSenderPerDay: values.ACK_MAX_PER_SENDER_PER_DAY,
    },
    // Each installation has queues of its own by default, so two that share a Redis never take each other's jobs.
    queuePrefix: values.QUEUE_PREFIX ?? `postdesk-${secrets.instanceId}`,
    attachments: { maxCount: values.ATTACHMENT_MAX_COUNT, maxBytes: values.ATTACHMENT_MAX_SIZE },
    imap,
    credentialKey: secrets.credentialKey,
    threadTokenSecret: secrets.threadTokenSecret,
    instanceId: secrets.instanceId,
  });
}

type EnvValues = z.infer<typeof schema>;

/** Check a relay URL as the delivery code will read it; returns the problems found. */
function checkRelayUrl(url: string | undefined): string[] {
  if (!url) return [];
  try {
    parseRelayUrl(url, 'localhost');
    return [];
  } catch (error) {
    if (!(error instanceof RelayUrlError)) throw error;
    return [error.message];
  }
}

function parseImapMailbox(values: EnvValues, problems: string[]): ImapEnvMailbox | null {
  if (!values.IMAP_HOST) return null;
  if (!values.IMAP_USER) problems.push('IMAP_USER: missing (required when IMAP_HOST is set)');
  if (!values.IMAP_PASSWORD && !values.IMAP_ACCESS_TOKEN) problems.push('IMAP_PASSWORD or IMAP_ACCESS_TOKEN: one is required when IMAP_HOST is set');
  if (values.IMAP_PASSWORD && values.IMAP_ACCESS_TOKEN) problems.push('IMAP_PASSWORD and IMAP_ACCESS_TOKEN: set only one');
  const tls = values.IMAP_TLS === 'true';
  return {
    host: values.IMAP_HOST,
    port: values.IMAP_PORT ?? (tls ? 993 : 143),
    tls,
    user: values.IMAP_USER ?? '',
    ...(values.IMAP_PASSWORD ? { password: values.IMAP_PASSWORD } : {}),
    ...(values.IMAP_ACCESS_TOKEN ? { accessToken: values.IMAP_ACCESS_TOKEN } : {}),
    folder: values.IMAP_FOLDER,
    processedAction: values.IMAP_PROCESSED_ACTION,
    processedFolder: values.IMAP_PROCESSED_FOLDER,
    importExisting: values.IMAP_IMPORT_EXISTING === 'true',
    ...(values.IMAP_DEPARTMENT ? { department: values.IMAP_DEPARTMENT } : {}),
  };
}

/** Parse `support@example.com=Support, billing@example.com=Billing`. */
function parseAddresses(list: string, problems: string[]): HelpdeskAddress[] {
  const addresses: HelpdeskAddress[] = [];
  for (const entry of list.split(',').map((item) => item.trim()).filter(Boolean)) {
    const [rawAddress = '', department] = entry.split('=').map((part) => part.trim());
    const address = rawAddress.toLowerCase();
    const match = /^([^@\s+]+)@([a-z0-9.-]+)$/.exec(address);
    if (!match) {
      problems.push(`MAIL_ADDRESSES: invalid address ${JSON.stringify(rawAddress)} (expected local@domain, optionally =Department, without a + in the local part)`);
      continue;
    }
    addresses.push({ address, localPart: match[1]!, domain: match[2]!, ...(department ? { department } : {}) });
  }
  if (addresses.length === 0 && problems.length === 0) problems.push('MAIL_ADDRESSES: no address given');
  return addresses;
}

/**
 * Read the thread-token secret and instance id from the data folder, creating them
 * on first start so that a fresh install needs no configuration. Tokens stay valid
 * across restarts because the secret is kept.
 */
function loadSecrets(dataDir: string, configuredSecret: string | undefined, configuredInstanceId: string | undefined, configuredCredentialKey: string | undefined) {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'secrets.json');
  let stored: { threadTokenSecret?: string; instanceId?: string; credentialKey?: string } = {};
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as typeof stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }

  const next = {
    threadTokenSecret: stored.threadTokenSecret ?? randomBytes(32).toString('base64url'),
    instanceId: stored.instanceId ?? randomBytes(8).toString('hex'),
    credentialKey: stored.credentialKey ?? randomBytes(32).toString('base64url'),
  };
  if (next.threadTokenSecret !== stored.threadTokenSecret || next.instanceId !== stored.instanceId || next.credentialKey !== stored.credentialKey) {
    writeFileSync(file, JSON.stringify(next, null, 2) + '\n', { mode: 0o600 });
  }

  return {
    threadTokenSecret: Buffer.from(configuredSecret ?? next.threadTokenSecret, 'utf8'),
    instanceId: configuredInstanceId ?? next.instanceId,
    credentialKey: Buffer.from(configuredCredentialKey ?? next.credentialKey, 'base64url'),
  };
}

/** Parse `25MB`, `512k` or a plain byte count. */
export function parseSize(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const amount = Number(match?.[1] ?? Number.NaN);
  const unit = (match?.[2] ?? '').toLowerCase();
  const factor = unit.startsWith('g') ? 1024 ** 3 : unit.startsWith('m') ? 1024 ** 2 : unit.startsWith('k') ? 1024 : 1;
  return Math.floor(amount * factor);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
