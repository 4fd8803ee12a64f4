import { isIP } from 'node:net';
import type { SMTPPoolOptions } from 'nodemailer/lib/smtp-pool';

/** Thrown for a relay URL that cannot be used; the message never contains the password. */
export class RelayUrlError extends Error {
  readonly code = 'RELAY_URL_INVALID';

  constructor(problem: string) {
    super(`SMTP_RELAY_URL: ${problem}`);
    this.name = 'RelayUrlError';
  }
}

/** Query parameters a relay URL may carry, and their accepted values. */
const TLS_MODES = ['starttls'] as const;

/**
 * Turn `smtp://user:password@host:port?tls=starttls` or `smtps://...` into nodemailer
 * SMTP options. The URL is parsed here rather than by nodemailer because nodemailer copies
 * every query parameter into its options, `tls.rejectUnauthorized=false` included, and
 * Postdesk never turns certificate checks off.
 *
 * - `smtps://` connects with TLS from the first byte (nodemailer's default port 465).
 * - `smtp://` starts in plain text (default port 587) and upgrades with STARTTLS whenever
 *   the relay offers it. nodemailer then verifies the certificate and fails on a bad one.
 * - `?tls=starttls` makes the upgrade mandatory: a relay that does not offer STARTTLS is
 *   an error. It is implied when the URL carries credentials and the host is not loopback,
 *   so that a password never crosses the network in clear text.
 *
 * A relay with a private certificate authority is trusted through Node's
 * NODE_EXTRA_CA_CERTS variable, not by relaxing the check.
 */
export function parseRelayUrl(relayUrl: string, clientHostname: string): SMTPPoolOptions {
  let url: URL;
  try {
    url = new URL(relayUrl);
  } catch {
    throw new RelayUrlError('invalid URL (expected smtp://[user:password@]host[:port] or smtps://...)');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new RelayUrlError(`unsupported scheme ${JSON.stringify(url.protocol)} (expected smtp: or smtps:)`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw new RelayUrlError('missing host name');

  const secure = url.protocol === 'smtps:';
  const tlsMode = readTlsMode(url);
  const auth = url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined;
  const requireTLS = !secure && (tlsMode === 'starttls' || (auth !== undefined && !isLoopbackHost(host)));

  return {
    host,
    ...(url.port ? { port: Number(url.port) } : {}),
    secure,
    requireTLS,
    ...(auth ? { auth } : {}),
    name: clientHostname,
    tls: { minVersion: 'TLSv1.2', ...(isIP(host) === 0 ? { servername: host } : {}) },
  };
}

function readTlsMode(url: URL): (typeof TLS_MODES)[number] | null {
  const unknown = [...url.searchParams.keys()].filter((key) => key !== 'tls');
  if (unknown.length > 0) {
    throw new RelayUrlError(`unsupported parameter ${unknown.map((key) => JSON.stringify(key)).join(', ')} (only tls=starttls is accepted)`);
  }
  const value = url.searchParams.get('tls');
  if (value === null) return null;
  if (value !== 'starttls') throw new RelayUrlError(`unsupported tls=${JSON.stringify(value)} (expected tls=starttls)`);
  if (url.protocol === 'smtps:') throw new RelayUrlError('tls=starttls applies to smtp:// only (smtps:// is TLS from the start)');
  return 'starttls';
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
