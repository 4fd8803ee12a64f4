import type { ImapFlowError } from 'imapflow';
import { CredentialError } from './credentials.js';

/** The kinds of failure a mailbox can be in; `permanent` kinds need a change of settings to clear. */
export type ImapErrorKind = 'auth' | 'tls' | 'credentials' | 'folder' | 'network' | 'timeout' | 'throttled' | 'server' | 'protocol' | 'unknown';

/** A failure reduced to what health reports and the retry policy need. */
export interface ClassifiedImapError {
  kind: ImapErrorKind;
  /** True when retrying soon cannot help: wrong password, untrusted certificate, missing folder. */
  permanent: boolean;
  /** A sentence for the health status, without secrets. */
  message: string;
  /** The library's, Node's or the server's code, when there is one. */
  code?: string;
  /** A delay the server asked for (ETHROTTLE), in milliseconds. */
  retryAfterMs?: number;
}

/** Server, user and folder of the failing connection, named in the messages. */
export interface ConnectionTarget {
  host: string;
  port: number;
  user: string;
  folder: string;
}

/** Raised by the poller's watchdog when the server stops responding. */
export class ImapWatchdogError extends Error {
  readonly code = 'WATCHDOG_TIMEOUT';

  constructor(readonly timeoutMs: number) {
    super(`server did not respond within ${timeoutMs} ms`);
    this.name = 'ImapWatchdogError';
  }
}

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL', 'NoConnection', 'EConnectionClosed', 'ClosedAfterConnectText', 'ClosedAfterConnectTLS']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ETIMEOUT', 'CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'UPGRADE_TIMEOUT', 'LockTimeout', 'WATCHDOG_TIMEOUT']);

/**
 * Classifies an error from imapflow, Node's socket and TLS layers or the poller
 * itself, by its code and flags (never by its message text).
 */
export function classifyImapError(error: unknown, target: ConnectionTarget): ClassifiedImapError {
  if (error instanceof CredentialError) return { kind: 'credentials', permanent: true, message: error.message, code: error.code };
  if (!(error instanceof Error)) return { kind: 'unknown', permanent: false, message: `unexpected failure: ${String(error)}` };

  const failure = error as ImapFlowError;
  const code = failure.code ?? failure.serverResponseCode;
  const withCode = code ? { code } : {};
  const serverText = failure.responseText ? ` (server said: ${failure.responseText})` : '';
  const address = `${target.host}:${target.port}`;

  if (failure.authenticationFailed) {
    return { kind: 'auth', permanent: true, ...withCode, message: `login as ${target.user} at ${address} was rejected${serverText}; check the password or access token` };
  }
  if ((code && (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'))) || failure.tlsFailed) {
    return { kind: 'tls', permanent: true, ...withCode, message: `TLS with ${address} failed: ${error.message}; the certificate must be valid for the host and signed by a trusted CA` };
  }
  if (failure.mailboxMissing || failure.serverResponseCode === 'NONEXISTENT' || code === 'NotFound') {
    return { kind: 'folder', permanent: true, ...withCode, message: `folder ${JSON.stringify(failure.path ?? target.folder)} not found on ${address}${serverText}` };
  }
  if (code === 'ETHROTTLE') {
    return { kind: 'throttled', permanent: false, ...withCode, message: `${address} throttled the connection`, ...(failure.throttleReset ? { retryAfterMs: failure.throttleReset } : {}) };
  }
  if (code && TIMEOUT_CODES.has(code)) {
    return { kind: 'timeout', permanent: false, ...withCode, message: `${address} timed out: ${error.message}` };
  }
  if (code && NETWORK_CODES.has(code)) {
    return { kind: 'network', permanent: false, ...withCode, message: networkMessage(code, address, error.message) };
  }
  if (failure.responseStatus === 'NO' || failure.responseStatus === 'BAD') {
    return { kind: 'server', permanent: false, ...withCode, message: `${address} rejected ${failure.command ?? 'a command'}${serverText}` };
  }
  if (code?.startsWith('ParserError') || code === 'InvalidResponse' || code === 'UnexpectedTag') {
    return { kind: 'protocol', permanent: false, ...withCode, message: `${address} sent a response that could not be parsed: ${error.message}` };
  }
  return { kind: 'unknown', permanent: false, ...withCode, message: `${address}: ${error.message}` };
}

function networkMessage(code: string, address: string, detail: string): string {
  if (code === 'ECONNREFUSED') return `connection to ${address} refused; check the host and port and that the server is running`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host of ${address} not found in DNS`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `${address} is unreachable`;
  return `connection to ${address} lost: ${detail}`;
}
