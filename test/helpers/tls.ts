import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Make a self-signed certificate for 127.0.0.1 and localhost with openssl, at test time. */
export function createSelfSignedCertificate(): { keyFile: string; certFile: string; cert: Buffer } {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'postdesk-tls-'));
  const keyFile = path.join(directory, 'key.pem');
  const certFile = path.join(directory, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  return { keyFile, certFile, cert: readFileSync(certFile) };
}
