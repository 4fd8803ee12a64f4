// Send .eml files to an SMTP server over a real SMTP session, as a mail server would.
// usage: npm run send -- [--server HOST:PORT] [--from ADDRESS] --to ADDRESS FILE.eml...
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import nodemailer from 'nodemailer';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { server: { type: 'string', default: '127.0.0.1:2525' }, from: { type: 'string' }, to: { type: 'string', multiple: true } },
});

if (!values.to?.length || positionals.length === 0) {
  process.stderr.write('usage: npm run send -- [--server HOST:PORT] [--from ADDRESS] --to ADDRESS FILE.eml...\n');
  process.exit(64);
}

const [host = '127.0.0.1', port = '2525'] = values.server.split(':');
const transport = nodemailer.createTransport({ host, port: Number(port), secure: false, ignoreTLS: true });
let failures = 0;
for (const file of positionals) {
  const raw = await readFile(file);
  const headerFrom = /^From:.*?<?([^\s<>"]+@[^\s<>"]+)>?\s*$/im.exec(raw.subarray(0, 64 * 1024).toString('latin1'))?.[1];
  const from = values.from ?? headerFrom ?? 'sender@localhost';
  try {
    const info = await transport.sendMail({ envelope: { from, to: values.to }, raw });
    process.stdout.write(`${file}: ${info.response}\n`);
  } catch (error) {
    failures++;
    process.stdout.write(`${file}: ${(error as Error).message}\n`);
  }
}
transport.close();
process.exit(failures === 0 ? 0 : 1);
