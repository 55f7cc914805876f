import { defineConfig } from 'vitest/config';

// Integration tests share one mosquitto and one influxd (started once in global-setup),
// so test files run one after another; tests inside a file may still be concurrent.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
