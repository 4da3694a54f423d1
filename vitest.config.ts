import { defineConfig } from 'vitest/config';

/** One vitest run covers every workspace; tests are colocated with the code they protect. */
export default defineConfig({
  test: {
    include: [
      'engine/src/**/*.test.ts',
      'server/src/**/*.test.ts',
      'bench/src/**/*.test.ts',
      'evals/src/**/*.test.ts',
      'docs/**/*.test.ts',
      'policies/**/*.test.ts',
    ],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
