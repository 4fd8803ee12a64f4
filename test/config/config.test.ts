import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';

describe('configuration', () => {
  const folders: string[] = [];

  afterEach(async () => {
    for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
  });

  async function dataDir() {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'postdesk-config-'));
    folders.push(folder);
    return folder;
  }

  it('receives mail for support@localhost with no settings', async () => {
    const config = loadConfig({ POSTDESK_DATA_DIR: await dataDir() });

    expect(config.mail.addresses.map((entry) => entry.address)).toEqual(['support@localhost']);
    expect(config.smtp).toMatchObject({ host: '127.0.0.1', port: 2525 });
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
  });

  it('generates the thread-token secret once and keeps it', async () => {
    const folder = await dataDir();

    const first = loadConfig({ POSTDESK_DATA_DIR: folder });
    const second = loadConfig({ POSTDESK_DATA_DIR: folder });

    expect(first.threadTokenSecret.length).toBeGreaterThanOrEqual(32);
    expect(second.threadTokenSecret.equals(first.threadTokenSecret)).toBe(true);
    expect(JSON.parse(await readFile(path.join(folder, 'secrets.json'), 'utf8'))).toHaveProperty('threadTokenSecret');
  });

  it('names every invalid setting at once', async () => {
    const env = { POSTDESK_DATA_DIR: await dataDir(), SMTP_PORT: '70000', SMTP_MAX_MESSAGE_SIZE: 'huge', MAIL_DOMAIN: 'not a domain', LOG_LEVEL: 'loud' };

    const error = (() => {
      try {
        loadConfig(env);
      } catch (caught) {
        return caught;
      }
    })();

    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const name of ['SMTP_PORT', 'SMTP_MAX_MESSAGE_SIZE', 'MAIL_DOMAIN', 'LOG_LEVEL']) expect(message).toContain(name);
  });

  it('never prints a secret value', async () => {
    const env = { POSTDESK_DATA_DIR: await dataDir(), THREAD_TOKEN_SECRET: 'short-secret-value' };

    expect(() => loadConfig(env)).toThrow(/THREAD_TOKEN_SECRET/);
    expect(() => loadConfig(env)).not.toThrow(/short-secret-value/);
  });

  it('rejects an invalid helpdesk address', async () => {
    const env = { POSTDESK_DATA_DIR: await dataDir(), MAIL_ADDRESSES: 'support@example.test=Support, not-an-address' };

    expect(() => loadConfig(env)).toThrow(/MAIL_ADDRESSES: invalid address "not-an-address"/);
  });

  it('maps addresses to departments', async () => {
    const config = loadConfig({ POSTDESK_DATA_DIR: await dataDir(), MAIL_ADDRESSES: 'Support@Example.test=Support,billing@example.test' });

    expect(config.mail.addresses).toEqual([
      { address: 'support@example.test', localPart: 'support', domain: 'example.test', department: 'Support' },
      { address: 'billing@example.test', localPart: 'billing', domain: 'example.test' },
    ]);
  });

  it('treats an empty value as unset', async () => {
    const config = loadConfig({ POSTDESK_DATA_DIR: await dataDir(), SMTP_PORT: '', MAIL_DOMAIN: ' ' });

    expect(config.smtp.port).toBe(2525);
    expect(config.mail.domain).toBe('localhost');
  });

  it('names a bad relay URL with the other problems', async () => {
    const env = { POSTDESK_DATA_DIR: await dataDir(), SMTP_RELAY_URL: 'smtp://relay.test:99999', LOG_LEVEL: 'loud' };

    expect(() => loadConfig(env)).toThrow(/SMTP_RELAY_URL[\s\S]*LOG_LEVEL|LOG_LEVEL[\s\S]*SMTP_RELAY_URL/);
  });

  it('gives each installation its own queue prefix', async () => {
    const first = loadConfig({ POSTDESK_DATA_DIR: await dataDir() });
    const second = loadConfig({ POSTDESK_DATA_DIR: await dataDir() });

    expect(first.queuePrefix).toMatch(/^postdesk-[0-9a-f]{16}$/);
    expect(second.queuePrefix).not.toBe(first.queuePrefix);
  });
});
