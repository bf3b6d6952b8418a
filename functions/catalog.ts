/**
 * The one list of Lambda functions. Each `name` is a folder under functions/ holding `handler.ts`
 * (export `handler`). CDK deploys one NodejsFunction per entry; the local runtime imports the same
 * module. HTTP routes and ASL substitution keys are declared here and nowhere else.
 */
export type Access = 'public' | 'staff' | 'supervisor';

export interface HttpRoute {
  method: 'GET' | 'POST';
  /** API Gateway v2 route path, e.g. `/api/staff/referrals/{id}` */
  path: string;
  /** public: no authorizer; staff: JWT with group case-workers or supervisors; supervisor: supervisors only */
  access: Access;
  /**
   * a public GET whose 200 answer holds no PHI and may be kept by browsers and CloudFront for this
   * many seconds (`cache-control: public, max-age=N`); every other answer of every route is no-store
   */
  publicCacheSeconds?: number;
}

/**
 * What invokes a function besides HTTP routes and the state machine. CDK turns each into an event
 * source; the local runtime emulates each with the same event shapes.
 * - `table-stream`: the table's DynamoDB stream (NEW_IMAGE), records matching `filter` (an event
 *   source mapping filter pattern, AWS syntax: leaf arrays of exact values), handed in batches as a
 *   DynamoDBStreamEvent. Failed batches are retried; the handler reports partial failures.
 * - `schedule`: an EventBridge Scheduler rate, handed a ScheduledEvent; locally also once at start.
 */
export type Trigger =
  | { kind: 'table-stream'; filter: Record<string, unknown>; batchSize: number }
  | { kind: 'schedule'; everySeconds: number };

export interface FunctionSpec {
  name: string;
  description: string;
  routes?: HttpRoute[];
  triggers?: Trigger[];
  /** key in statemachines/referral.asl.json `${...}` placeholders that resolves to this function's ARN */
  aslKey?: string;
  /** the Lambda timeout when not the default of timeoutSecondsOf */
  timeoutSeconds?: number;
  /** AWS permissions the handler needs; CDK turns these into least-privilege grants */
  needs: Array<
    | 'table:read'
    | 'table:write'
    | 'workflow:start'
    | 'workflow:callback'
    | 'workflow:stop'
    | 'workflow:describe'
    /** DescribeExecution on this state machine's executions (sweep: did a lost workflow end?) */
    | 'workflow:inspect'
    | 'email:send'
    /** read the clearinghouse API key from its Secrets Manager secret (that one secret only; none while the simulator answers) */
    | 'eligibility:key'
  >;
}

/**
 * check-insurance may ask the clearinghouse twice: a request (25 s at most), ELIGIBILITY_RETRY_SECONDS
 * (default 30, at most 60 on AWS) and a request again; the ASL's CheckInsurance TimeoutSeconds is above it
 */
export const CHECK_INSURANCE_TIMEOUT_SECONDS = 120;

export const functions: readonly FunctionSpec[] = [
  {
    name: 'submit-intake',
    description: 'Intake of a referral: public web form and staff phone intake',
    routes: [
      { method: 'POST', path: '/api/referrals', access: 'public' },
      { method: 'POST', path: '/api/staff/referrals', access: 'staff' },
    ],
    needs: ['table:read', 'table:write', 'workflow:start'],
  },
  {
    name: 'read-referrals',
    description: 'Staff work queues, referral detail and the program dashboard',
    routes: [
      { method: 'GET', path: '/api/staff/referrals', access: 'staff' },
      { method: 'GET', path: '/api/staff/referrals/{id}', access: 'staff' },
      { method: 'GET', path: '/api/staff/dashboard', access: 'staff' },
    ],
    needs: ['table:read'],
  },
  {
    name: 'decide-step',
    description: 'A case worker decides the pending human step of a referral',
    routes: [{ method: 'POST', path: '/api/staff/referrals/{id}/steps/{step}', access: 'staff' }],
    needs: ['table:read', 'table:write', 'workflow:callback'],
  },
  {
    name: 'withdraw-referral',
    description: 'Withdraw a referral from any non-final status',
    routes: [{ method: 'POST', path: '/api/staff/referrals/{id}/withdraw', access: 'staff' }],
    needs: ['table:read', 'table:write', 'workflow:stop'],
  },
  {
    name: 'resume-referral',
    description: 'Restart a referral that needs attention after a task failure, at the step that failed',
    routes: [{ method: 'POST', path: '/api/staff/referrals/{id}/resume', access: 'staff' }],
    needs: ['table:read', 'table:write', 'workflow:start'],
  },
  {
    name: 'manage-cohorts',
    description: 'IOP cohorts (groups of at most 10) with their weekly sessions',
    routes: [
      { method: 'GET', path: '/api/staff/cohorts', access: 'staff' },
      { method: 'POST', path: '/api/staff/cohorts', access: 'supervisor' },
    ],
    needs: ['table:read', 'table:write'],
  },
  {
    name: 'read-availability',
    description: 'Open seats for referrers: per track, the next cohorts with a seat and a session left (no PHI)',
    routes: [{ method: 'GET', path: '/api/availability', access: 'public', publicCacheSeconds: 60 }],
    needs: ['table:read'],
  },
  {
    name: 'read-payers',
    description: "The intake form's payer picker: payer names and their clearinghouse payer IDs (PAYER_LIST or the sample list; no PHI)",
    routes: [{ method: 'GET', path: '/api/payers', access: 'public', publicCacheSeconds: 300 }],
    needs: [],
  },
  {
    name: 'recheck-insurance',
    description: 'At the insurance review: correct the member ID or payer and check eligibility again (the referral stays at its gate)',
    routes: [{ method: 'POST', path: '/api/staff/referrals/{id}/insurance/recheck', access: 'staff' }],
    needs: ['table:read', 'table:write', 'eligibility:key'],
  },
  {
    name: 'read-funnel',
    description: 'The referral funnel (received, evaluated, enrolled, started) by date range and channel: counts and medians only',
    routes: [{ method: 'GET', path: '/api/staff/dashboard/funnel', access: 'staff' }],
    needs: ['table:read'],
  },
  {
    name: 'export-fhir',
    description: "A referral as a FHIR R4 Bundle for the referrer's and the program's systems; each export is recorded on its timeline",
    routes: [{ method: 'GET', path: '/api/staff/referrals/{id}/fhir', access: 'staff' }],
    needs: ['table:read', 'table:write'],
  },
  {
    name: 'manage-caseload',
    description:
      'Caseload: assign a referral (to oneself or another), "My referrals", the contact log, and a patient\'s consent revocation recorded by staff',
    routes: [
      { method: 'GET', path: '/api/staff/caseload', access: 'staff' },
      { method: 'POST', path: '/api/staff/referrals/{id}/assignment', access: 'staff' },
      { method: 'POST', path: '/api/staff/referrals/{id}/contacts', access: 'staff' },
      { method: 'POST', path: '/api/staff/referrals/{id}/consent-revocation', access: 'staff' },
    ],
    needs: ['table:read', 'table:write'],
  },
  {
    name: 'health',
    description: 'Liveness of the API and its dependencies (table, workflow)',
    routes: [{ method: 'GET', path: '/api/health', access: 'public' }],
    needs: ['table:read', 'workflow:describe'],
  },
  {
    name: 'check-insurance',
    description: 'Workflow task: eligibility check (X12 270/271 through the eligibility adapter)',
    aslKey: 'CheckInsuranceFunctionArn',
    timeoutSeconds: CHECK_INSURANCE_TIMEOUT_SECONDS,
    needs: ['table:read', 'table:write', 'eligibility:key'],
  },
  {
    name: 'open-gate',
    description: 'Workflow task (callback): opens a human gate and stores its task token; applies a decision that arrived while it opened',
    aslKey: 'OpenGateFunctionArn',
    needs: ['table:read', 'table:write', 'workflow:callback'],
  },
  {
    name: 'escalate',
    description: 'Workflow task: a human gate passed its timer (escalate, reopen or expire), or a task kept failing (needs attention)',
    aslKey: 'EscalateFunctionArn',
    needs: ['table:read', 'table:write'],
  },
  {
    name: 'send-notices',
    description: 'Delivers the notices (emails) a committed change wrote to the outbox; a failed send is retried later by sweep',
    triggers: [
      { kind: 'table-stream', filter: { eventName: ['INSERT'], dynamodb: { NewImage: { entity: { S: ['notice'] } } } }, batchSize: 10 },
    ],
    needs: ['table:read', 'table:write', 'email:send'],
  },
  {
    name: 'sweep',
    description:
      'Every minute: retries notices whose send failed (backoff); hands over decisions, restarts workflows that were lost, and hands a referral whose workflow ended short of its end to a person',
    triggers: [{ kind: 'schedule', everySeconds: 60 }],
    needs: ['table:read', 'table:write', 'email:send', 'workflow:start', 'workflow:callback', 'workflow:inspect'],
  },
];

/**
 * How every function is sized, for CDK and the local runtime alike. HTTP API integrations give up
 * at 30 s, so API handlers get 10 s; workflow tasks get 30 s unless their spec sets timeoutSeconds
 * (check-insurance: CHECK_INSURANCE_TIMEOUT_SECONDS); the ASL's TimeoutSeconds bound them too.
 */
export const LAMBDA_MEMORY_MB = 512;
export const timeoutSecondsOf = (s: FunctionSpec): number => s.timeoutSeconds ?? (s.aslKey ? 30 : 10);

/** the state machine's name in CDK and in the local runtime */
export const STATE_MACHINE_NAME = 'referral';
export const STATE_MACHINE_FILE = 'statemachines/referral.asl.json';
