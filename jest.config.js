// one jest run, four projects (unit, int, infra, e2e); TypeScript through @swc/jest as native ESM
const transform = {
  '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2023', parser: { syntax: 'typescript' } }, module: { type: 'es6' } }],
};
const common = { transform, extensionsToTreatAsEsm: ['.ts'], testEnvironment: 'node' };

export default {
  // integration and browser tests drive a whole workflow; unit tests finish in milliseconds anyway
  testTimeout: 60_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'int', testMatch: ['<rootDir>/test/int/**/*.int.test.ts'], slowTestThreshold: 30 },
    { ...common, displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e.test.ts'], slowTestThreshold: 60 },
  ],
};
