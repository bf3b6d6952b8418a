// one jest run, four projects (unit, int, infra, e2e); TypeScript through @swc/jest as native ESM
const transform = {
  '^.+\\.tsx?$': [
    '@swc/jest',
    { jsc: { target: 'es2023', parser: { syntax: 'typescript' }, experimental: { keepImportAttributes: true } }, module: { type: 'es6' } },
  ],
};
const common = { transform, extensionsToTreatAsEsm: ['.ts'], testEnvironment: 'node' };

// the soak (`npm run test:soak`: test/soak/**/*.soak.test.ts, long runs of the same properties) is a
// project only when asked for by name, so a plain `jest` or `npm test` never starts it
const soakSelected = process.argv.some(
  (a, i) => a === '--selectProjects=soak' || (a === '--selectProjects' && process.argv[i + 1] === 'soak'),
);
const soak = { ...common, displayName: 'soak', testMatch: ['<rootDir>/test/soak/**/*.soak.test.ts'], slowTestThreshold: 600 };

export default {
  // integration and browser tests drive a whole workflow; unit tests finish in milliseconds anyway
  testTimeout: 60_000,
  // three files at a time: most of a file's time is spent waiting (a runtime starting, a workflow
  // moving, a browser), so on 2 cores three workers take ~210 s where jest's default (cores − 1 = one
  // worker) took ~390 s; every wait is a condition with a deadline, so the suites hold under it
  maxWorkers: 3,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'int', testMatch: ['<rootDir>/test/int/**/*.int.test.ts'], slowTestThreshold: 30 },
    { ...common, displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e.test.ts'], slowTestThreshold: 60 },
    ...(soakSelected ? [soak] : []),
  ],
};
