// Mutation testing (StrykerJS) for the security-critical sources: `npm run mutation`. Not run in CI: a full
// run takes a long time on 2 cores. Narrow it while working, e.g.
//   npm run mutation -- --mutate packages/oauth2/src/redact.ts
// Only tests that import the sources directly (`../src`) see the mutants: the provider packages and the
// conformance suite load the compiled `dist` through the workspace links, so they are left out here.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const baseJest = require('./jest.config.js');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    config: { ...baseJest, rootDir: '.', roots: ['<rootDir>/packages/oauth2', '<rootDir>/packages/refresh'] },
    enableFindRelatedTests: true,
  },
  mutate: ['packages/oauth2/src/**/*.ts', 'packages/refresh/src/**/*.ts', '!**/src/index.ts'],
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 15000,
  ignoreStatic: true,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/report.json' },
  ignorePatterns: ['examples', 'bench', 'reports', '.ci', '**/dist', '**/*.tsbuildinfo'],
  thresholds: { high: 90, low: 75, break: null },
  tempDirName: '.stryker-tmp',
};
