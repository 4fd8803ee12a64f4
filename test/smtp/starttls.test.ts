import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { RawSmtpSession } from '../helpers/smtp-client.js';
import { createSelfSignedCertificate } from '../helpers/tls.js';

describe('SMTP STARTTLS', () => {
  let harness: Awaited<ReturnType<typeof createTestApp>>;
  let certificate: ReturnType<typeof createSelfSignedCertificate>;

  beforeAll(async () => {
    certificate = createSelfSignedCertificate();
    harness = await createTestApp({ SMTP_TLS_KEY_FILE: certificate.keyFile, SMTP_TLS_CERT_FILE: certificate.certFile });
  });

  afterAll(async () => {
    await harness.cleanup();
  });

  it('discards commands pipelined before the TLS handshake', async () => {
    const port = harness.app.smtp!.port;
    const session = await RawSmtpSession.connect(port);
    const ehlo = await session.command('EHLO client.test');

    // RFC 3207 section 5: commands sent in plaintext after STARTTLS must not run inside the TLS session.
    session.write('STARTTLS\r\nMAIL FROM:<injected@attacker.test>\r\n');
    const ready = await session.reply();
    const secure = tls.connect({ socket: session.detach(), ca: certificate.cert, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    const secureSession = RawSmtpSession.wrap(secure);
    await secureSession.command('EHLO client.test');
    const rcpt = await secureSession.command('RCPT TO:<support@example.test>');
    secureSession.close();

    expect(ehlo).toMatch(/^250/);
    expect(ready).toMatch(/^220/);
    expect(rcpt).toMatch(/^503/);
  });
});
