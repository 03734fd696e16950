import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Tests train real models; two cores run two files at a time at most.
    maxWorkers: 2,
    pool: 'forks',
  },
});
