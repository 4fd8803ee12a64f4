import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

// Entry of `npm run bench`. Runs the benches named as arguments (smtp, outbound,
// imap; default every one whose file exists), prints each report, then one JSON
// document with all results.

const SUITES = ['smtp', 'outbound', 'imap'] as const;
type Suite = (typeof SUITES)[number];

/** A bench module's exports: `run<Name>Bench`, and optionally `format<Name>Report`. */
type BenchModule = Record<string, unknown>;

const USAGE = `Usage: npm run bench -- [smtp] [outbound] [imap] [options]

Runs the named benches (default: every bench file that exists) and prints a report
for each, then the results as JSON.

Options:
  --quick               short runs (a smoke test, not a measurement)
  --json FILE           also write the JSON results to FILE
  --small N             SMTP: small messages per case (default 2000)
  --attachments N       SMTP: messages with a 200 KiB attachment per case (default 400)
  --log-level LEVEL     SMTP: Postdesk's log level (default info)
  --keep-logs           SMTP: keep the server logs and print their folder
  -h, --help            show this help`;

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    small: { type: 'string' },
    attachments: { type: 'string' },
    'log-level': { type: 'string' },
    'keep-logs': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const unknown = positionals.filter((name) => !SUITES.includes(name as Suite));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown bench ${unknown.join(', ')}; expected one of ${SUITES.join(', ')}\n`);
  process.exit(64);
}

const available = SUITES.filter((suite) => existsSync(path.join(benchDir, `${suite}.ts`)));
const requested = positionals.length > 0 ? (positionals as Suite[]) : available;
const missing = requested.filter((suite) => !available.includes(suite));
if (missing.length > 0) {
  process.stderr.write(`bench: no bench file for ${missing.join(', ')} (expected bench/<name>.ts)\n`);
  process.exit(66);
}

const results: Record<string, unknown> = {};
for (const suite of requested) {
  const module = (await import(pathToFileURL(path.join(benchDir, `${suite}.ts`)).href)) as BenchModule;
  const name = suite.charAt(0).toUpperCase() + suite.slice(1);
  const run = module[`run${name}Bench`];
  if (typeof run !== 'function') throw new Error(`bench/${suite}.ts does not export run${name}Bench`);

  const result: unknown = await run(optionsFor(suite));
  results[suite] = result;
  const format = module[`format${name}Report`];
  const report = typeof format === 'function' ? String(format(result)) : JSON.stringify(result, null, 2);
  process.stdout.write(`\n${report}\n`);
}

const json = JSON.stringify(results, null, 2);
process.stdout.write(`\nJSON results:\n${json}\n`);
if (values.json) await writeFile(values.json, `${json}\n`);

function optionsFor(suite: Suite): Record<string, unknown> {
  if (suite !== 'smtp') return { quick: values.quick };
  return {
    quick: values.quick,
    ...(values.small ? { smallCount: parseCount('--small', values.small) } : {}),
    ...(values.attachments ? { attachmentCount: parseCount('--attachments', values.attachments) } : {}),
    ...(values['log-level'] ? { logLevel: values['log-level'] } : {}),
    keepLogs: values['keep-logs'],
  };
}

function parseCount(option: string, value: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1) {
    process.stderr.write(`bench: ${option} must be a positive integer, got ${JSON.stringify(value)}\n`);
    process.exit(64);
  }
  return count;
}
