// Starts a private Dovecot IMAP server on a free loopback port, with its configuration,
// sockets, state and mail in a temporary folder. Debian's dovecot-imapd provides it;
// the helper installs that package with apt-get when the binary is missing. It must
// run as root, because Dovecot switches to the dovecot and dovenull users.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';

const run = promisify(execFile);
const DOVECOT = '/usr/sbin/dovecot';

/** Options of a test server. */
export interface DovecotOptions {
  /** Also listen for IMAP over TLS, with a certificate from a CA made for this server. */
  tls?: boolean;
  /** Lines appended to the configuration, e.g. `imap_capability = IMAP4rev1 UIDPLUS` to hide IDLE. */
  extraConfig?: string;
  /**
   * Also accept XOAUTH2 logins. It is the only OAuth2 mechanism offered, as at
   * Microsoft 365. Dovecot checks each access token by sending it as a bearer token
   * to this URL (a test HTTP server on loopback). The server returns JSON whose
   * `email` field must equal the login name.
   */
  oauth2IntrospectionUrl?: string;
}

/** A running test server. */
export interface DovecotServer {
  readonly host: string;
  readonly port: number;
  /** Port of the TLS listener, when started with `tls`. */
  readonly tlsPort: number | null;
  /** PEM of the CA that signed the server certificate, when started with `tls`. */
  readonly ca: string | null;
  readonly dir: string;
  readonly configFile: string;
  /** Creates a user. */
  addUser(user: string, password: string): Promise<void>;
  /** Opens a client logged in as the user; the caller logs it out. */
  connect(user: string, password: string): Promise<ImapFlow>;
  /** Appends messages to a folder (created if missing) and returns their UIDs. */
  append(user: string, password: string, messages: Array<string | Buffer>, folder?: string): Promise<number[]>;
  /** Runs doveadm against this server and returns its output. */
  doveadm(args: string[]): Promise<string>;
  /** Closes every connection of a user from the server side. */
  kick(user: string): Promise<void>;
  /** Stops the server; start() brings it back on the same port with the same mail. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and removes its folder. */
  destroy(): Promise<void>;
}

/** Starts a private Dovecot; call destroy() in afterAll. */
export async function startDovecot(options: DovecotOptions = {}): Promise<DovecotServer> {
  await ensureDovecotInstalled();
  const dir = await mkdtemp(path.join(tmpdir(), 'postdesk-dovecot-'));
  // Dovecot's mail processes run as the dovecot user and must reach the mail folder.
  await chmod(dir, 0o755);
  const mailDir = path.join(dir, 'mail');
  await mkdir(mailDir);
  await chown(mailDir, await userId('dovecot'), await groupId('dovecot'));
  await mkdir(path.join(dir, 'users'));

  const port = await freePort();
  const tlsPort = options.tls ? await freePort() : null;
  const ca = options.tls ? await createCertificates(dir) : null;
  const configFile = path.join(dir, 'dovecot.conf');
  if (options.oauth2IntrospectionUrl) {
    await writeFile(path.join(dir, 'oauth2.conf.ext'), `introspection_mode = auth\nintrospection_url = ${options.oauth2IntrospectionUrl}\nusername_attribute = email\n`);
  }
  await writeFile(configFile, renderConfig(dir, port, tlsPort, options.extraConfig ?? '', Boolean(options.oauth2IntrospectionUrl)));

  let child: ChildProcess | null = null;
  const server: DovecotServer = {
    host: '127.0.0.1',
    port,
    tlsPort,
    ca,
    dir,
    configFile,
    async addUser(user, password) {
      if (!/^[a-z0-9._-]+$/i.test(user)) throw new Error(`test user name ${JSON.stringify(user)} must be letters, digits, dot, dash or underscore`);
      // One passwd-file per user: Dovecot checks a passwd-file for changes at most once a
      // second, so a user added to a shared file could stay unknown for that long.
      await writeFile(path.join(dir, 'users', user), `${user}:{PLAIN}${password}\n`);
    },
    async connect(user, password) {
      const client = new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user, pass: password }, logger: false, ...(ca ? { tls: { ca } } : {}) });
      await client.connect();
      return client;
    },
    async append(user, password, messages, folder = 'INBOX') {
      const client = await server.connect(user, password);
      try {
        if (folder !== 'INBOX') await client.mailboxCreate(folder);
        const uids: number[] = [];
        for (const message of messages) {
          const result = await client.append(folder, message);
          if (!result || result.uid === undefined) throw new Error('APPEND returned no UID (is UIDPLUS missing?)');
          uids.push(result.uid);
        }
        return uids;
      } finally {
        await client.logout();
      }
    },
    async doveadm(args) {
      const { stdout } = await run('doveadm', ['-c', configFile, ...args]);
      return stdout;
    },
    async kick(user) {
      await server.doveadm(['kick', user]);
    },
    async start() {
      child = spawn(DOVECOT, ['-F', '-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      await waitForPort(port, () => (child?.exitCode !== null ? `dovecot exited: ${stderr}` : null));
    },
    async stop() {
      if (!child || child.exitCode !== null || child.pid === undefined) return;
      // The mail processes of open sessions outlive the master here, so they are
      // listed first and ended by process id once the master is gone.
      const children = await childProcessIds(child.pid);
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      await run('doveadm', ['-c', configFile, 'stop']).catch(() => child?.kill('SIGTERM'));
      await exited;
      child = null;
      for (const pid of children) killQuietly(pid);
    },
    async destroy() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };

  await server.start();
  return server;
}

/** Builds a raw RFC 5322 message with CRLF line ends, for tests. */
export function makeMessage(fields: { subject: string; from?: string; to?: string; messageId?: string; body?: string }): string {
  const messageId = fields.messageId ?? `<${Math.random().toString(36).slice(2)}.${Date.now()}@test.invalid>`;
  return [
    `From: ${fields.from ?? 'Customer <customer@example.com>'}`,
    `To: ${fields.to ?? 'support@example.com'}`,
    `Subject: ${fields.subject}`,
    `Message-ID: ${messageId}`,
    `Date: ${new Date().toUTCString()}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    fields.body ?? `Body of ${fields.subject}`,
    '',
  ].join('\r\n');
}

function renderConfig(dir: string, port: number, tlsPort: number | null, extraConfig: string, oauth2: boolean): string {
  const oauth2Passdb = `passdb {
  driver = oauth2
  mechanisms = xoauth2
  args = ${dir}/oauth2.conf.ext
}`;
  return `instance_name = postdesk-test-${port}
protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
mail_location = maildir:${dir}/mail/%u
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 0
disable_plaintext_auth = no
auth_mechanisms = plain login${oauth2 ? ' xoauth2' : ''}
# Failed logins are answered at once, and the anvil penalty that would slow later
# logins from 127.0.0.1 is off, so the wrong-password tests do not delay others.
auth_failure_delay = 0
${tlsPort ? `ssl = yes\nssl_cert = <${dir}/server.crt\nssl_key = <${dir}/server.key` : 'ssl = no'}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${tlsPort ?? 0}
  }
}
service anvil {
  chroot =
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN ${dir}/users/%u
}
${oauth2 ? oauth2Passdb : ''}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=${dir}/mail/%u allow_all_users=yes
}
${extraConfig}
`;
}

/** Makes a CA and a server certificate for 127.0.0.1 and localhost; returns the CA's PEM. */
async function createCertificates(dir: string): Promise<string> {
  const file = (name: string) => path.join(dir, name);
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Postdesk test CA', '-keyout', file('ca.key'), '-out', file('ca.crt')]);
  await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', file('server.key'), '-out', file('server.csr')]);
  await writeFile(file('server.ext'), 'subjectAltName = IP:127.0.0.1, DNS:localhost\nbasicConstraints = CA:FALSE\n');
  await run('openssl', ['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', file('server.ext'), '-out', file('server.crt')]);
  return readFile(file('ca.crt'), 'utf8');
}

async function ensureDovecotInstalled(): Promise<void> {
  if (existsSync(DOVECOT)) return;
  await run('apt-get', ['update', '-qq']);
  await run('apt-get', ['install', '-y', '-qq', 'dovecot-imapd'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

async function userId(name: string): Promise<number> {
  return Number((await run('id', ['-u', name])).stdout.trim());
}

async function groupId(name: string): Promise<number> {
  return Number((await run('id', ['-g', name])).stdout.trim());
}

/** Process ids whose parent is `parent`, read from /proc. */
async function childProcessIds(parent: number): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // The fields after the command name, which is in parentheses: state, then ppid.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === parent) pids.push(Number(name));
  }
  return pids;
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Finds a port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, failure: () => string | null): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const problem = failure();
    if (problem) throw new Error(problem);
    if (await canConnect(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`dovecot did not listen on 127.0.0.1:${port} within 10 s`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
