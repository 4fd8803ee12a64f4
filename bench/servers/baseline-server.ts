import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { runServerChild, StepTimings } from '../lib/server-child.js';

// The baseline of the SMTP intake bench: a bare smtp-server that accepts every
// recipient, parses each message with mailparser's simpleParser as the stream
// arrives and replies 250 once parsing ends. It stores nothing, so it shows what a
// parse-then-reply Node.js receiver costs on this machine, not what a real MX does
// (a real MX replies only after the message is stored).

const timings = new StepTimings();

await runServerChild(async () => {
  const server = new SMTPServer({
    name: 'baseline.bench.test',
    banner: 'bench baseline',
    size: 30 * 1024 * 1024,
    authOptional: true,
    disabledCommands: ['AUTH'],
    hideSTARTTLS: true,
    hideDSN: true,
    disableReverseLookup: true,
    logger: false,
    onData(stream, _session, callback) {
      const start = performance.now();
      // The options mirror Postdesk's parseMessage (src/inbound/parse.ts), so the
      // baseline does not pay for conversions that Postdesk skips.
      simpleParser(stream, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true, keepDeliveryStatus: true }).then(
        () => {
          timings.record('parse', performance.now() - start);
          callback(null, '2.0.0 Ok: parsed');
        },
        (error: unknown) => {
          stream.resume();
          callback(Object.assign(new Error(`4.3.0 parse failed: ${String(error)}`), { responseCode: 451 }));
        },
      );
    },
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });

  return {
    port,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}, timings);
