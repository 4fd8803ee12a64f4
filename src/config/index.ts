import { config as readDotenv } from 'dotenv';
import { loadConfig, type Config } from './config.js';

export { ConfigError, loadConfig, type Config, type HelpdeskAddress } from './config.js';

/**
 * Load the configuration of this process: the environment, completed by a .env file
 * in the working folder. Variables already set in the environment win over .env.
 */
export function loadProcessConfig(): Config {
  return loadConfig(readProcessEnvironment());
}

/** Merge the environment with .env, for a thread or process that loads the configuration again. */
export function readProcessEnvironment(): Record<string, string | undefined> {
  const fromFile: Record<string, string> = {};
  readDotenv({ processEnv: fromFile, quiet: true });
  return { ...fromFile, ...process.env };
}
