import { readFileSync } from 'node:fs';

// reads a V8 .cpuprofile (as --cpu-prof or the inspector write it) and names where the time went

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const ROOT = process.cwd();

/** V8/Node frames of promise hooks with destroy tracking (any async_hooks.createHook with a destroy callback turns them on) */
const ASYNC_HOOKS = new Set([
  'registerDestroyHook',
  'asyncReset',
  'destroyTracking',
  'promiseInitHookWithDestroyTracking',
  'promiseInitHook',
  'promiseBeforeHook',
  'promiseAfterHook',
  'promiseResolveHook',
  'emitDestroyScript',
  'emitDestroyHook',
]);

/** a frame's place: a package, a file of ours, node internals or V8 */
const placeOf = (url: string, fn: string): { group: string; where: string } => {
  if (ASYNC_HOOKS.has(fn) || (url === 'node:internal/async_hooks' && /[Hh]ook|[Dd]estroy/.test(fn))) {
    return { group: 'async_hooks destroy tracking (cls-hooked, loaded with the X-Ray SDK by Powertools Tracer)', where: fn };
  }
  if (fn === 'writev' || fn === 'writeUtf8String' || fn === 'writeBuffer' || fn === 'writeLatin1String')
    return { group: 'socket writes (loopback TCP: the JVM, the emulators, clients)', where: fn };
  if (!url) {
    if (fn === '(garbage collector)') return { group: 'V8: garbage collection', where: fn };
    if (fn === '(idle)') return { group: 'idle', where: fn };
    if (fn === '(program)') return { group: 'V8/native (program)', where: fn };
    return { group: 'V8/native (program)', where: fn || '(native)' };
  }
  const path = url.replace(/^file:\/\//, '').replace(`${ROOT}/`, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
  if (pkg) {
    if (pkg.startsWith('@aws-sdk/') || pkg.startsWith('@smithy/') || pkg === 'fast-xml-parser' || pkg === 'tslib')
      return { group: 'AWS SDK (@aws-sdk, @smithy)', where: pkg };
    if (pkg === 'zod') return { group: 'zod (validation)', where: pkg };
    if (pkg === 'tsx' || pkg === 'esbuild' || pkg === 'get-tsconfig') return { group: 'tsx (TypeScript loader)', where: pkg };
    if (pkg === 'nodemailer' || pkg === 'ical-generator' || pkg === 'timezones-ical-library')
      return { group: 'email: MIME and calendar', where: pkg };
    if (pkg.startsWith('@aws-lambda-powertools/') || pkg === '@middy/core') return { group: 'Powertools, middy', where: pkg };
    if (pkg === 'asl-path-validator' || pkg === 'aws-local-stepfunctions' || pkg === 'jsonpath-plus' || pkg === 'lodash')
      return { group: 'Step Functions emulator (local)', where: pkg };
    return { group: `other packages`, where: pkg };
  }
  if (path.startsWith('node:') || !path.includes('/'))
    return {
      group: 'Node.js internals (http, streams, crypto, timers)',
      where: path.split('/')[0]!.replace(/^node:internal.*/, 'node:internal'),
    };
  if (path.startsWith('bench/')) return { group: 'bench driver and counting proxies', where: path };
  if (path.startsWith('local/sfn/')) return { group: 'Step Functions emulator (local)', where: path };
  if (path.startsWith('local/triggers/')) return { group: 'stream and schedule triggers (local)', where: path };
  if (path.startsWith('local/')) return { group: 'local gateway and runtime', where: path };
  if (/^functions\/lib\/adapters\//.test(path)) return { group: 'our code: adapters', where: path };
  if (/^functions\/lib\/(schemas|validate)/.test(path)) return { group: 'our code: schemas', where: path };
  if (/^functions\//.test(path)) return { group: 'our code: handlers, services, domain', where: path };
  return { group: 'other', where: path };
};

export interface ProfileSummary {
  profiledMs: number;
  busyMs: number;
  groups: Array<{ group: string; ms: number; pctOfBusy: number }>;
  topFunctions: Array<{ fn: string; where: string; ms: number; pctOfBusy: number }>;
  topPlaces: Array<{ where: string; group: string; ms: number; pctOfBusy: number }>;
}

/** self time by group, by place (package or file) and by function */
export const summariseProfile = (file: string): ProfileSummary => {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000;
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + dt);
  }
  const groups = new Map<string, number>();
  const places = new Map<string, { group: string; ms: number }>();
  const fns = new Map<string, { where: string; ms: number }>();
  let total = 0;
  let idle = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    const { group, where } = placeOf(n.callFrame.url, n.callFrame.functionName);
    total += ms;
    if (group === 'idle') {
      idle += ms;
      continue;
    }
    groups.set(group, (groups.get(group) ?? 0) + ms);
    const pl = places.get(where) ?? { group, ms: 0 };
    pl.ms += ms;
    places.set(where, pl);
    const key = `${n.callFrame.functionName || '(anonymous)'} ${where}:${n.callFrame.lineNumber + 1}`;
    const f = fns.get(key) ?? { where, ms: 0 };
    f.ms += ms;
    fns.set(key, f);
  }
  const busy = total - idle;
  const pct = (ms: number) => Math.round((ms / busy) * 1000) / 10;
  return {
    profiledMs: Math.round(total),
    busyMs: Math.round(busy),
    groups: [...groups].sort((a, b) => b[1] - a[1]).map(([group, ms]) => ({ group, ms: Math.round(ms), pctOfBusy: pct(ms) })),
    topPlaces: [...places]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, 15)
      .map(([where, v]) => ({ where, group: v.group, ms: Math.round(v.ms), pctOfBusy: pct(v.ms) })),
    topFunctions: [...fns]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, 15)
      .map(([fn, v]) => ({ fn: fn.split(' ')[0]!, where: fn.slice(fn.indexOf(' ') + 1), ms: Math.round(v.ms), pctOfBusy: pct(v.ms) })),
  };
};
