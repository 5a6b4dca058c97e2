import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Forks, not threads: tests spawn real servers (postgres, redis, chromium) and
    // process-level exit hooks must belong to one test file's process.
    pool: 'forks',
    // 2-core machines: more workers just fight over CPU with the servers they start.
    maxWorkers: 2,
    fileParallelism: true,
    testTimeout: 30_000,
    // Starting PostgreSQL/Chromium in beforeAll can take a while on a cold CI machine.
    hookTimeout: 120_000,
  },
});
