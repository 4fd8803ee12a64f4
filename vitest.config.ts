import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Protocol tests start servers on loopback ports and share the machine's Redis,
    // so files run one at a time in separate processes.
    fileParallelism: false,
    pool: 'forks',
  },
});
