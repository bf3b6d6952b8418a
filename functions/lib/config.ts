import * as z from 'zod';
import { PayerListSchema, SAMPLE_PAYERS, sortedPayers } from './payers';
import { REQUEST_TIMEOUT_MS } from './domain/clearinghouse';
import { PROGRAM_DEFAULTS } from './program';
import { isTimeZone } from './schemas/common';

// the environment of every handler, parsed once at cold start; a missing variable fails loudly

const hours = (h: number) => h * 3600;

const parseJson = (s: string): unknown => {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
};

/** ELIGIBILITY_RETRY_SECONDS when unset (CDK's synth checks use it too) */
export const ELIGIBILITY_RETRY_SECONDS_DEFAULT = 30;

const EnvSchema = z
  .object({
    TABLE_NAME: z.string().min(1),
    STATE_MACHINE_ARN: z.string().min(1),
    MAIL_FROM: z.string().min(3),
    PROGRAM_EMAIL: z.string().min(3),
    PROGRAM_NAME: z.string().default(PROGRAM_DEFAULTS.name),
    PROGRAM_PHONE: z.string().default(PROGRAM_DEFAULTS.phone),
    PROGRAM_TIME_ZONE: z.string().refine(isTimeZone).default(PROGRAM_DEFAULTS.timeZone),
    /** human gate timers in seconds: insurance review, evaluation, detox confirmation, enrollment */
    GATE_TIMEOUTS: z
      .string()
      .default(
        JSON.stringify({
          'insurance-review': hours(24),
          evaluation: hours(48),
          'detox-confirmation': hours(24 * 14),
          enrollment: hours(72),
        }),
      )
      .transform((s) => z.record(z.string(), z.number().int().positive()).parse(JSON.parse(s))),
    /** total days a referral may wait for detox before it expires */
    DETOX_MAX_DAYS: z.coerce.number().positive().default(30),
    /** who answers eligibility inquiries: the embedded payer simulator, or a clearinghouse (eligibility v3 JSON) */
    ELIGIBILITY_PROVIDER: z.enum(['simulator', 'clearinghouse']).default('simulator'),
    /** the clearinghouse's eligibility endpoint (https; http only for a fake on 127.0.0.1) */
    ELIGIBILITY_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** its API key, locally from the environment (never logged) */
    ELIGIBILITY_API_KEY: z.string().min(1).optional(),
    /** on AWS: the Secrets Manager secret holding the API key (read once per container) */
    ELIGIBILITY_API_KEY_SECRET_ARN: z.string().min(1).optional(),
    /** a busy clearinghouse (AAA 42, 5xx, no answer) is asked once more after this long (the local runtime divides it by TIME_SCALE) */
    ELIGIBILITY_RETRY_SECONDS: z.coerce.number().nonnegative().default(ELIGIBILITY_RETRY_SECONDS_DEFAULT),
    /** one request of the workflow to the clearinghouse may take this long (a re-check waits 8 s at most) */
    ELIGIBILITY_TIMEOUT_SECONDS: z.coerce
      .number()
      .positive()
      .max(55)
      .default(REQUEST_TIMEOUT_MS / 1000),
    /** the program as the inquiring provider: its NPI and organization name */
    PROVIDER_NPI: z
      .string()
      .regex(/^\d{10}$/)
      .optional(),
    PROVIDER_NAME: z.string().min(1).optional(),
    /** the payer picker's list, JSON [{ name, payerId }] (functions/lib/payers.ts); unset: the sample list */
    PAYER_LIST: z
      .string()
      .optional()
      .transform((s, ctx) => {
        if (s === undefined || s.trim() === '') return sortedPayers(SAMPLE_PAYERS);
        const parsed = PayerListSchema.safeParse(parseJson(s));
        if (parsed.success) return sortedPayers(parsed.data);
        ctx.addIssue({ code: 'custom', message: 'a JSON array of { name, payerId }' });
        return z.NEVER;
      }),
    /** HMAC key of page cursors (functions/lib/cursor.ts); the stack injects a generated secret */
    CURSOR_SECRET: z.string().min(32).optional(),
    /** a notice whose send keeps failing is retried with backoff for this long, then given up (and the program told) */
    NOTICE_RETRY_HOURS: z.coerce.number().positive().default(48),
    /** first retry delay of a failed send; doubles per attempt (full jitter), capped at NOTICE_RETRY_MAX_SECONDS */
    NOTICE_RETRY_BASE_SECONDS: z.coerce.number().positive().default(60),
    NOTICE_RETRY_MAX_SECONDS: z.coerce.number().positive().default(3600),
    /** a referral in RECEIVED, or at a gate status with no gate open, this long is restarted by sweep */
    STRANDED_AFTER_SECONDS: z.coerce.number().positive().default(120),
    /** how long a sender holds a notice before another may take it over (the first is presumed dead) */
    NOTICE_LEASE_SECONDS: z.coerce.number().positive().default(120),
    /** an enrolled person's first session is recorded (attended or not) by this long after it starts; then the usual SLA escalation */
    FIRST_SESSION_GRACE_HOURS: z.coerce.number().positive().default(24),
    /** a waitlisted referral is brought back to the program for review this often (no escalation) */
    WAITLIST_REVIEW_DAYS: z.coerce.number().positive().default(7),
    /** the first human gate of an urgent referral (positive crisis screen) waits at most this long */
    URGENT_FIRST_CONTACT_HOURS: z.coerce.number().positive().default(4),
    /**
     * the staff console's address (e.g. https://iop.example.org/console/): staff emails link to a
     * referral as <CONSOLE_URL>#/referral/<id> (an id, never PHI). Unset: the emails name the reference only
     */
    CONSOLE_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** a session starting at or after this local time belongs to the evening track, before it to the morning track */
    EVENING_TRACK_FROM: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/)
      .default('16:00'),
    /** days the program is closed (YYYY-MM-DD, comma-separated): no session is held and the invitation leaves them out */
    CLOSURE_DATES: z
      .string()
      .default('')
      .transform((s) => s.split(/[\s,]+/).filter(Boolean))
      .pipe(z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/))),
    /** the calendar invitation's title, neutral on a lock screen (never the program's name) */
    INVITE_TITLE_EN: z.string().min(1).default('Group session'),
    INVITE_TITLE_ES: z.string().min(1).default('Sesión de grupo'),
    /** what to bring to the first session, in the schedule email */
    WHAT_TO_BRING_EN: z
      .string()
      .min(1)
      .default(
        'A photo ID, your insurance card if you have one, and a list of the medicines you take. Please be ready 15 minutes before your first session.',
      ),
    WHAT_TO_BRING_ES: z
      .string()
      .min(1)
      .default(
        'Una identificación con foto, su tarjeta de seguro si la tiene y una lista de los medicamentos que toma. Por favor esté listo 15 minutos antes de su primera sesión.',
      ),
  })
  .superRefine((env, ctx) => {
    for (const name of eligibilitySettingsMissing(env))
      ctx.addIssue({ code: 'custom', path: [name], message: 'required by ELIGIBILITY_PROVIDER' });
  });

type EligibilitySettings = Partial<
  Record<
    | 'ELIGIBILITY_PROVIDER'
    | 'ELIGIBILITY_URL'
    | 'ELIGIBILITY_API_KEY'
    | 'ELIGIBILITY_API_KEY_SECRET_ARN'
    | 'PROVIDER_NPI'
    | 'PROVIDER_NAME',
    string
  >
>;

/**
 * A half configuration, by name: the clearinghouse needs its URL, a key (or, on AWS, the secret
 * holding it), the provider's NPI and name; the simulator takes no URL or key (one left set means
 * the deployer meant the clearinghouse). The local runtime and CDK refuse to start on the same list.
 */
export const eligibilitySettingsMissing = (env: EligibilitySettings): string[] => {
  if ((env.ELIGIBILITY_PROVIDER ?? 'simulator') === 'simulator')
    return env.ELIGIBILITY_URL || env.ELIGIBILITY_API_KEY ? ['ELIGIBILITY_PROVIDER'] : [];
  const missing: string[] = [];
  if (!env.ELIGIBILITY_URL) missing.push('ELIGIBILITY_URL');
  if (!env.ELIGIBILITY_API_KEY && !env.ELIGIBILITY_API_KEY_SECRET_ARN) missing.push('ELIGIBILITY_API_KEY');
  if (!env.PROVIDER_NPI) missing.push('PROVIDER_NPI');
  if (!env.PROVIDER_NAME) missing.push('PROVIDER_NAME');
  return missing;
};

export type Config = z.infer<typeof EnvSchema>;

let cached: Config | undefined;

/** parsed environment; throws naming the missing/invalid variables (never their values) */
export const config = (): Config => {
  if (cached) return cached;
  const parsed = EnvSchema.safeParse(process.env);
  if (!parsed.success) {
    throw new Error(`Invalid environment: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  }
  cached = parsed.data;
  return cached;
};
