import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{config,connectors,gateway,model,rules,sim,test,dashboards}/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
