import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'lab',
          include: ['test/lab/**/*.test.ts'],
          environment: 'node',
          // UML nodes boot, sync and fail over in real time.
          testTimeout: 600_000,
          hookTimeout: 600_000,
          fileParallelism: false,
          pool: 'forks',
        },
      },
    ],
  },
});
