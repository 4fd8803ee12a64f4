/** The fields nodemailer (10.x) sets on its errors that classification reads. */
interface SendErrorFields {
  code?: string | undefined;
  /** The Node.js code under nodemailer's own, such as CERT_HAS_EXPIRED under ESOCKET. */
  originalCode?: string | undefined;
  command?: string | undefined;
  response?: string | undefined;
  responseCode?: number | undefined;
  rejectedErrors?: SendErrorFields[] | undefined;
}

/** Classification of a failed send: retried later, or recorded as failed for good. */
export interface SendFailure {
  kind: 'temporary' | 'permanent';
  /** True when the cause is our own setup (credentials, TLS), not the message. */
  configuration: boolean;
  /** nodemailer or Node.js error code, such as EENVELOPE or ECONNREFUSED. */
  code: string | null;
  /** SMTP command that the server rejected, such as RCPT TO. */
  command: string | null;
  responseCode: number | null;
  /** The server's reply line, as sent. */
  response: string | null;
}

/**
 * Codes that mean our relay settings are wrong. They are retried even with a 5xx reply
 * (535 for a bad password, say): failing every row for good would lose all mail over a
 * setting that an operator can fix.
 */
const CONFIGURATION_CODES = new Set(['EAUTH', 'ENOAUTH', 'EOAUTH2', 'ETLS', 'EREQUIRETLS', 'ECONFIG', 'EPROXY']);

/** Node.js codes of a relay certificate that failed verification: a setup problem too. */
const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Codes raised before the server could judge the message, which no retry will change. */
const PERMANENT_CODES = new Set(['EENVELOPE', 'EMAXRECIPIENTS']);

/**
 * Classify an error from a send by its `code` and SMTP `responseCode`, never by its text.
 * RFC 5321 section 4.2.1: a 5yz reply is a permanent negative completion and a 4yz reply
 * a transient one. 503 (bad sequence of commands) reports a session in the wrong state
 * rather than a refusal of the message, so it counts as temporary. Errors
 * without a reply (connection refused, timeouts, a full disk) are temporary.
 */
export function classifySendError(error: unknown): SendFailure {
  const fields = readFields(error);
  // nodemailer reports a rejected recipient inside `rejectedErrors`; its reply is the one that counts.
  const rejection = fields.rejectedErrors?.find((entry) => typeof entry.responseCode === 'number');
  const source = rejection ?? fields;

  const code = source.code ?? fields.code ?? null;
  const responseCode = typeof source.responseCode === 'number' ? source.responseCode : null;
  const failure = { code, command: source.command ?? null, responseCode, response: source.response ?? null };

  const setupProblem = (code !== null && CONFIGURATION_CODES.has(code)) || (fields.originalCode !== undefined && CERTIFICATE_CODES.has(fields.originalCode));
  if (setupProblem) return { kind: 'temporary', configuration: true, ...failure };
  if (responseCode !== null) {
    const permanent = responseCode >= 500 && responseCode < 600 && responseCode !== 503;
    return { kind: permanent ? 'permanent' : 'temporary', configuration: false, ...failure };
  }
  if (code !== null && PERMANENT_CODES.has(code)) return { kind: 'permanent', configuration: false, ...failure };
  return { kind: 'temporary', configuration: false, ...failure };
}

/** Format a failure as one line for OutboundMessage.lastError and the task history. */
export function describeSendFailure(failure: SendFailure, message: string): string {
  if (failure.response) return failure.response;
  return failure.code ? `${failure.code}: ${message}` : message;
}

function readFields(error: unknown): SendErrorFields {
  if (typeof error !== 'object' || error === null) return {};
  const record = error as Record<string, unknown>;
  const rejected = Array.isArray(record.rejectedErrors) ? record.rejectedErrors.map(readFields) : undefined;
  return {
    code: typeof record.code === 'string' ? record.code : undefined,
    originalCode: typeof record.originalCode === 'string' ? record.originalCode : undefined,
    command: typeof record.command === 'string' ? record.command : undefined,
    response: typeof record.response === 'string' ? record.response : undefined,
    responseCode: typeof record.responseCode === 'number' ? record.responseCode : undefined,
    rejectedErrors: rejected,
  };
}
