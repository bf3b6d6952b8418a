import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FINAL_STATUSES, STATUSES, STATE_FOR_STATUS } from '../../../../functions/lib/schemas/views';
import { GATES, nextStatusAfter } from '../../../../functions/lib/domain/workflow';
import { functions, STATE_MACHINE_FILE } from '../../../../functions/catalog';

// reads the one workflow definition the stack deploys and the local runtime runs (no copy of it here)

interface Rule {
  Variable?: string;
  StringEquals?: string;
  Next?: string;
  And?: Rule[];
  Or?: Rule[];
  Not?: Rule;
}
interface Retrier {
  ErrorEquals: string[];
  JitterStrategy?: string;
  MaxAttempts?: number;
  BackoffRate?: number;
}
interface Catcher {
  ErrorEquals: string[];
  Next: string;
  ResultPath?: string;
}
interface State {
  Type: string;
  Resource?: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: Rule[];
  Retry?: Retrier[];
  Catch?: Catcher[];
  TimeoutSecondsPath?: string;
  TimeoutSeconds?: number;
  Parameters?: Record<string, unknown>;
}
interface Asl {
  StartAt: string;
  States: Record<string, State>;
  QueryLanguage?: string;
}

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const raw = readFileSync(`${root}${STATE_MACHINE_FILE}`, 'utf8');
const asl = JSON.parse(raw) as Asl;
const states = Object.entries(asl.States);

/** every (key, value) pair anywhere in the document */
const walk = (v: unknown, visit: (key: string, value: unknown) => void): void => {
  if (Array.isArray(v)) v.forEach((x) => walk(x, visit));
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      visit(k, x);
      walk(x, visit);
    }
};

const isGate = (s: State) => s.Resource?.includes('.waitForTaskToken') ?? false;
const isLambdaTask = (s: State) => s.Type === 'Task';

const choiceValues = (rules: Rule[]): string[] =>
  rules.flatMap((r) => [
    ...(r.StringEquals !== undefined ? [r.StringEquals] : []),
    ...choiceValues([...(r.And ?? []), ...(r.Or ?? []), ...(r.Not ? [r.Not] : [])]),
  ]);

/** the state a Choice sends `$.route.next = code` to */
const choose = (s: State, code: string): string =>
  s.Choices!.find((c) => c.Variable === '$.route.next' && c.StringEquals === code)?.Next ?? s.Default!;

/** the state entered after `task` returned route code `code` (through its Choice, if it has one) */
const afterTask = (task: string, code: string): string => {
  const next = asl.States[asl.States[task]!.Next!]!;
  return next.Type === 'Choice' ? choose(next, code) : asl.States[task]!.Next!;
};

describe('statemachines/referral.asl.json', () => {
  test('uses JSONPath only: no QueryLanguage JSONata and no Assign anywhere', () => {
    // Act
    const found: string[] = [];
    walk(asl, (k, v) => {
      if (k === 'QueryLanguage' && v === 'JSONata') found.push('QueryLanguage: JSONata');
      if (k === 'Assign') found.push('Assign');
    });
    for (const [name, st] of states) for (const k of ['Arguments', 'Output'] as const) if (k in st) found.push(`${name}.${k}`); // JSONata-only fields

    // Assess
    expect(found).toEqual([]);
    expect(raw).not.toMatch(/\{%/); // JSONata expressions
  });

  test('the walk that looks for JSONata and Assign does find them where they are', () => {
    // Prepare
    const doc = {
      States: {
        A: { Type: 'Pass', Next: 'B' },
        B: { Type: 'Choice', Choices: [{ Next: 'A', Assign: { x: 1 } }], QueryLanguage: 'JSONata' },
      },
    };

    // Act
    const keys: string[] = [];
    walk(doc, (k, v) => {
      if (k === 'Assign' || (k === 'QueryLanguage' && v === 'JSONata')) keys.push(k);
    });

    // Assess
    expect(keys.sort()).toEqual(['Assign', 'QueryLanguage']);
  });

  test('every Next, Default and Catch target names a state that exists; a new execution starts with CheckInsurance', () => {
    // Act
    const targets: string[] = [asl.StartAt];
    walk(asl, (k, v) => {
      if ((k === 'Next' || k === 'Default') && typeof v === 'string') targets.push(v);
    });

    // Assess
    const start = asl.States[asl.StartAt]!;
    expect(start.Type).toBe('Choice');
    expect(start.Choices).toEqual([{ Not: { Variable: '$.route', IsPresent: true }, Next: 'CheckInsurance' }]);
    expect(targets.filter((t) => !(t in asl.States))).toEqual([]);
  });

  test('every Choice StringEquals value is a referral status', () => {
    // Act
    const values = states.filter(([, s]) => s.Type === 'Choice').flatMap(([, s]) => choiceValues(s.Choices ?? []));

    // Assess
    expect(values.length).toBeGreaterThan(0);
    expect(values.filter((v) => !(STATUSES as readonly string[]).includes(v))).toEqual([]);
  });

  test('every gate (.waitForTaskToken) takes its timer from TimeoutSecondsPath and catches States.Timeout into RecordBreach', () => {
    // Prepare
    const gates = states.filter(([, s]) => isGate(s));

    // Assess
    expect(gates.map(([n]) => n).sort()).toEqual(['Detox', 'Enrollment', 'Evaluation', 'FirstSession', 'InsuranceReview', 'Waitlist']);
    for (const [, s] of gates) {
      expect(s.TimeoutSecondsPath).toBe('$.route.timeoutSeconds');
      expect(s.Catch?.find((c) => c.ErrorEquals.includes('States.Timeout'))?.Next).toBe('RecordBreach');
      expect(s.Parameters).toMatchObject({ Payload: { 'taskToken.$': '$$.Task.Token' } });
    }
  });

  test('every gate is a state the console maps a status to (STATE_FOR_STATUS)', () => {
    const gates = states.filter(([, s]) => isGate(s)).map(([n]) => n);
    for (const g of gates) expect(Object.values(STATE_FOR_STATUS)).toContain(g);
    for (const n of Object.values(STATE_FOR_STATUS)) expect(asl.States).toHaveProperty([n!]);
  });

  test('every Lambda task retries with full jitter and catches everything into RecordFailure, except RecordFailure itself', () => {
    for (const [name, s] of states.filter(([, x]) => isLambdaTask(x))) {
      expect([name, s.Retry?.some((r) => r.JitterStrategy === 'FULL')]).toEqual([name, true]);
      if (name === 'RecordFailure') continue;
      const all = s.Catch?.find((c) => c.ErrorEquals.includes('States.ALL'));
      expect([name, all?.Next]).toEqual([name, 'RecordFailure']);
    }
  });

  test('RecordFailure ends the execution and has no Catch (so it cannot loop into itself)', () => {
    expect(asl.States.RecordFailure).toMatchObject({ Type: 'Task', End: true });
    expect(asl.States.RecordFailure!.Catch).toBeUndefined();
  });

  test('every ${...} placeholder is the ASL key of a function in the catalog', () => {
    // Act
    const placeholders = [...new Set([...raw.matchAll(/\$\{(\w+)\}/g)].map((x) => x[1]))];

    // Assess
    const keys = functions.flatMap((f) => (f.aslKey ? [f.aslKey] : []));
    expect(placeholders.sort()).toEqual([...keys].sort());
  });

  test('the happy path with detox, to the first session attended, enters at most 12 states', () => {
    // Prepare: the route code each task hands back on that path ($.route.next)
    const routeAfter: Record<string, string> = {
      CheckInsurance: 'EVALUATION',
      Evaluation: nextStatusAfter('evaluation', {
        dimensions: { d1: 2, d2: 1, d3: 1, d4: 1, d5: 2, d6: 1 },
        recommendedLevel: '2.1',
        detoxRequired: true,
        decision: 'accept',
      }),
      Detox: nextStatusAfter('detox-confirmation', { completed: true, completedOn: '2026-11-01' }),
      Enrollment: nextStatusAfter('enrollment', { cohortId: 'c1' }),
      FirstSession: nextStatusAfter('first-session', { attended: true, on: '2026-11-09' }),
    };

    // Act: follow Next, and for a Choice the branch of the current route code
    const path: string[] = [];
    let route = '';
    // a new execution's input has no route: the Start choice sends it to CheckInsurance
    let name: string | undefined = asl.States[asl.StartAt]!.Choices![0]!.Next;
    path.push(asl.StartAt);
    while (name && path.length < 50) {
      path.push(name);
      const s: State = asl.States[name]!;
      route = routeAfter[name] ?? route;
      name = s.End ? undefined : s.Type === 'Choice' ? choose(s, route) : s.Next;
    }

    // Assess
    expect(path.filter((n) => asl.States[n]!.Type !== 'Choice')).toEqual([
      'CheckInsurance',
      'Evaluation',
      'Detox',
      'Enrollment',
      'FirstSession',
      'Close',
    ]);
    expect(path).not.toContain('RecordFailureUnroutable');
    // 9 states to enrolment, 3 for the first-session gate (its gate and the choices before and after it)
    expect(path.length).toBeLessThanOrEqual(12);
  });

  test('every status a decision can lead to has a branch after its gate (none falls to RecordFailureUnroutable)', () => {
    // Prepare
    const dims = { d1: 1, d2: 1, d3: 1, d4: 1, d5: 1, d6: 1 };
    const outcomes: Array<[string, string]> = [
      ['InsuranceReview', nextStatusAfter('insurance-review', { decision: 'covered' })],
      ['InsuranceReview', nextStatusAfter('insurance-review', { decision: 'self-pay' })],
      ['InsuranceReview', nextStatusAfter('insurance-review', { decision: 'not-covered' })],
      [
        'Evaluation',
        nextStatusAfter('evaluation', { dimensions: dims, recommendedLevel: '2.1', detoxRequired: false, decision: 'accept' }),
      ],
      ['Evaluation', nextStatusAfter('evaluation', { dimensions: dims, recommendedLevel: '2.1', detoxRequired: true, decision: 'accept' })],
      [
        'Evaluation',
        nextStatusAfter('evaluation', {
          dimensions: dims,
          recommendedLevel: '3.5',
          detoxRequired: false,
          decision: 'refer-out',
          referOutTo: 'x',
        }),
      ],
      ['Detox', nextStatusAfter('detox-confirmation', { completed: true, completedOn: '2026-11-01' })],
      ['Detox', nextStatusAfter('detox-confirmation', { completed: false, decision: 'extend' })],
      ['Detox', nextStatusAfter('detox-confirmation', { completed: false, decision: 'refer-out' })],
      ['Enrollment', nextStatusAfter('enrollment', { cohortId: 'c1' })],
      ['Enrollment', nextStatusAfter('enrollment', { waitlist: true })],
      ['Waitlist', nextStatusAfter('waitlist', { cohortId: 'c1' })],
      ['FirstSession', nextStatusAfter('first-session', { attended: true, on: '2026-11-09' })],
      ['FirstSession', nextStatusAfter('first-session', { attended: false, next: 'retry' })],
      ['FirstSession', nextStatusAfter('first-session', { attended: false, next: 'close' })],
      ['CheckInsurance', 'EVALUATION'],
      ['CheckInsurance', 'INSURANCE_REVIEW'],
      ...(['INSURANCE_REVIEW', 'EVALUATION', 'DETOX', 'ENROLLMENT', 'WAITLISTED', 'ENROLLED', 'EXPIRED'].map((c) => [
        'RecordBreach',
        c,
      ]) as Array<[string, string]>),
    ];

    // Act
    const unroutable = outcomes.filter(([task, code]) => afterTask(task, code) === 'RecordFailureUnroutable');

    // Assess
    expect(unroutable).toEqual([]);
  });

  test('a breach reopens the gate it came from, and an expiry closes', () => {
    const back = {
      INSURANCE_REVIEW: 'InsuranceReview',
      EVALUATION: 'Evaluation',
      DETOX: 'Detox',
      ENROLLMENT: 'Enrollment',
      WAITLISTED: 'Waitlist',
      ENROLLED: 'FirstSession',
      EXPIRED: 'Close',
    };
    for (const [code, state] of Object.entries(back)) expect([code, afterTask('RecordBreach', code)]).toEqual([code, state]);
  });
});

describe('statemachines/referral.asl.json: resuming and closing', () => {
  test('a resumed execution ({ referralId, route }) can enter at every status a failure can stop at', () => {
    // Prepare
    const resume = asl.States[asl.States[asl.StartAt]!.Default!]!;

    // Act
    const entries = ['RECEIVED', 'INSURANCE_REVIEW', 'EVALUATION', 'DETOX', 'ENROLLMENT', 'WAITLISTED', 'ENROLLED'].map((s) => [
      s,
      choose(resume, s),
    ]);

    // Assess
    expect(Object.fromEntries(entries)).toEqual({
      RECEIVED: 'CheckInsurance',
      INSURANCE_REVIEW: 'InsuranceReview',
      EVALUATION: 'Evaluation',
      DETOX: 'Detox',
      ENROLLMENT: 'Enrollment',
      WAITLISTED: 'Waitlist',
      ENROLLED: 'FirstSession',
    });
  });

  test('every task that can find its referral closed meanwhile (ReferralClosed) ends at Close, without retrying', () => {
    // Prepare
    const tasks = states.filter(([name, s]) => s.Type === 'Task' && name !== 'RecordFailure');

    // Act
    const catches = tasks.map(([name, s]) => [name, (s as unknown as { Catch: Array<{ ErrorEquals: string[]; Next: string }> }).Catch[0]]);
    const retried = tasks.filter(
      ([, s]) =>
        ((s as unknown as { Retry?: Array<{ ErrorEquals: string[]; MaxAttempts?: number }> }).Retry ?? [])
          .find(
            (r) =>
              r.ErrorEquals.includes('ReferralClosed') ||
              r.ErrorEquals.includes('States.TaskFailed') ||
              r.ErrorEquals.includes('States.ALL'),
          )
          ?.ErrorEquals.includes('ReferralClosed') === false,
    );

    // Assess
    expect(catches).toEqual(tasks.map(([name]) => [name, { ErrorEquals: ['ReferralClosed'], ResultPath: '$.closed', Next: 'Close' }]));
    expect(retried).toEqual([]);
    expect(asl.States.Close!.Type).toBe('Succeed');
  });
});

describe('statemachines/referral.asl.json: the waitlist and the first session', () => {
  test('every gate status (GATES) has its gate state, and a timer firing at it comes back to the same gate', () => {
    for (const [status, state] of Object.entries(STATE_FOR_STATUS).filter(([s]) => s in GATES)) {
      expect([status, isGate(asl.States[state!]!)]).toEqual([status, true]);
      expect([status, afterTask('RecordBreach', status)]).toEqual([status, state]);
    }
  });

  test('enrolment leads to the first session, the waitlist to the first session once a seat is found', () => {
    expect(afterTask('Enrollment', 'ENROLLED')).toBe('FirstSession');
    expect(afterTask('Enrollment', 'WAITLISTED')).toBe('Waitlist');
    expect(afterTask('Waitlist', 'ENROLLED')).toBe('FirstSession');
    // the waitlist only ever leads on to a seat: withdrawing stops the execution instead
    expect(afterTask('Waitlist', 'WAITLISTED')).toBe('RecordFailureUnroutable');
  });

  test('at the first session, a retry waits at the same gate; started and no-show close', () => {
    expect(afterTask('FirstSession', 'ENROLLED')).toBe('FirstSession');
    expect(afterTask('FirstSession', 'STARTED')).toBe('Close');
    expect(afterTask('FirstSession', 'NO_SHOW')).toBe('Close');
  });

  test('ENROLLED is no longer where the workflow ends: Close is reached only from a final status', () => {
    expect(afterTask('Enrollment', 'ENROLLED')).not.toBe('Close');
    const toClose = states
      .filter(([, s]) => s.Type === 'Choice')
      .flatMap(([, s]) => (s.Choices ?? []).filter((c) => c.Next === 'Close').map((c) => c.StringEquals!));
    expect([...new Set(toClose)].sort()).toEqual(['EXPIRED', 'NOT_COVERED', 'NO_SHOW', 'REFERRED_OUT', 'STARTED']);
    for (const code of toClose) expect(FINAL_STATUSES).toContain(code);
  });
});
