import type { SlaState, Status } from '../../../functions/lib/schemas/views';
import type { Step } from '../../../functions/lib/schemas/decisions';

// words for codes: one place, so every screen says the same thing

export const STATUS_LABEL: Record<Status, string> = {
  RECEIVED: 'Received',
  INSURANCE_CHECK: 'Insurance check',
  INSURANCE_REVIEW: 'Insurance review',
  EVALUATION: 'Evaluation',
  DETOX: 'Detox',
  ENROLLMENT: 'Enrollment',
  ENROLLED: 'Enrolled',
  REFERRED_OUT: 'Referred out',
  NOT_COVERED: 'Not covered',
  WITHDRAWN: 'Withdrawn',
  EXPIRED: 'Expired',
  NEEDS_ATTENTION: 'Needs attention',
  WAITLISTED: 'Waitlisted',
  STARTED: 'Started',
  NO_SHOW: 'No-show',
};

export const STEP_LABEL: Record<Step, string> = {
  'insurance-review': 'Insurance review',
  evaluation: 'Evaluation',
  'detox-confirmation': 'Detox confirmation',
  enrollment: 'Enrollment',
  waitlist: 'Waitlist',
  'first-session': 'First session',
};

export const SLA_LABEL: Record<SlaState, string> = { 'on-time': 'On time', 'due-soon': 'Due soon', overdue: 'Overdue' };

/** "45 min", "3 h", "2 d 4 h" */
export function duration(ms: number): string {
  const min = Math.max(0, Math.floor(ms / 60_000));
  if (min < 60) return `${min} min`;
  const hours = Math.floor(min / 60);
  if (hours < 48) return `${hours} h`;
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  return rest ? `${days} d ${rest} h` : `${days} d`;
}

/** hours as a short duration: 0.4 → "24 min", 30 → "30 h", 80 → "3 d 8 h" */
export const hours = (h: number): string => duration(h * 3_600_000);

export const ageOf = (iso: string, now = Date.now()): string => duration(now - Date.parse(iso));

const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });

export const dateTime = (iso: string): string => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTimeFmt.format(d);
};

/** a calendar date (YYYY-MM-DD) shown as written, without a time zone shift */
export const calendarDay = (ymd: string): string => {
  const d = new Date(`${ymd}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? ymd : dateFmt.format(d);
};

/** a session start in the cohort's own time zone: "Mon, Mar 3, 9:00 AM EST" */
export const sessionTime = (iso: string, timeZone: string): string => {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(undefined, {
    weekday: 'short',
    month: 'short',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    timeZone,
    timeZoneName: 'short',
  }).format(d);
};

export const yesNo = (b: boolean | undefined): string => (b === undefined ? '—' : b ? 'Yes' : 'No');

/**
 * A phone number as people read it: 10 US digits → "(555) 123-4567", 11 starting with 1 →
 * "+1 (555) 123-4567"; anything else as typed. `tel` is the dialable form (E.164 where it can be).
 */
export const phone = (typed: string): { text: string; tel: string } => {
  const digits = typed.replace(/\D/g, '');
  const us = digits.length === 11 && digits.startsWith('1') ? digits.slice(1) : digits.length === 10 ? digits : undefined;
  if (us) return { text: `${digits.length === 11 ? '+1 ' : ''}(${us.slice(0, 3)}) ${us.slice(3, 6)}-${us.slice(6)}`, tel: `+1${us}` };
  return { text: typed.trim(), tel: typed.trim().startsWith('+') ? `+${digits}` : digits };
};

/** "d1" style keys and kebab codes as words: "refer-out" → "Refer out" */
export const words = (code: string): string => {
  const s = code
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[-_]/g, ' ')
    .toLowerCase();
  return s.charAt(0).toUpperCase() + s.slice(1);
};

/** today as YYYY-MM-DD, in the browser's time zone (e.g. the latest day a date input takes) */
export const todayYmd = (): string => {
  const today = new Date();
  return `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, '0')}-${String(today.getDate()).padStart(2, '0')}`;
};

/** years between a YYYY-MM-DD birth date and today */
export const ageYears = (dob: string): number | null => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(dob);
  if (!m) return null;
  const now = new Date();
  let years = now.getFullYear() - Number(m[1]);
  const monthDay = (now.getMonth() + 1) * 100 + now.getDate();
  if (monthDay < Number(m[2]) * 100 + Number(m[3])) years--;
  return years;
};

/** a server message as a sentence: trimmed, ending with punctuation */
export const sentence = (s: string): string => {
  const t = s.trim();
  return !t || /[.!?]$/.test(t) ? t : `${t}.`;
};
