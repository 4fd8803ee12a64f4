#!/usr/bin/env node
// Runs the Prisma CLI offline. Prisma 6.19 downloads its native engines at start-up
// unless these two variables point at existing files. The JavaScript engines that
// prisma.config.ts selects never load them, so any file will do.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const placeholder = path.join(root, 'package.json');
const require = createRequire(import.meta.url);
const cli = path.join(path.dirname(require.resolve('prisma/package.json')), 'build', 'index.js');

// SQLite cannot create a database file in a folder that does not exist.
const url = process.env.DATABASE_URL ?? 'file:./data/postdesk.db';
if (url.startsWith('file:')) mkdirSync(path.dirname(path.resolve(root, url.slice('file:'.length))), { recursive: true });

const result = spawnSync(process.execPath, [cli, ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    PRISMA_QUERY_ENGINE_LIBRARY: process.env.PRISMA_QUERY_ENGINE_LIBRARY ?? placeholder,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? placeholder,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  },
});
process.exit(result.status ?? 1);
