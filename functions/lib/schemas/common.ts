import * as z from 'zod';
import { nowMs } from '../clock';
import { message } from './messages';

// shared field builders: one definition of "a real calendar date", "an email", ...

/** an `Idempotency-Key` header (the intake form sends a UUID): the handler, the OpenAPI document and the tests read this */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_-]{8,128}$/;

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** true when `s` is YYYY-MM-DD and names a day that exists (no 2025-02-30) */
export const isCalendarDate = (s: string): boolean => {
  if (!DATE_RE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
};

/** today as YYYY-MM-DD; a day of slack covers time zones ahead of UTC */
const latestAllowedDay = (): string => new Date(nowMs() + 14 * 3600_000).toISOString().slice(0, 10);

// an empty string is a date left empty (a form's date control), not a badly written one: it says
// "Required" so a form words it beside its own control; the format is named only for what was typed
export const calendarDate = () =>
  z.string().superRefine((s, ctx) => {
    if (!isCalendarDate(s)) ctx.addIssue({ code: 'custom', message: message(s.trim() === '' ? 'required' : 'date.invalid') });
  });

export const pastDate = () => calendarDate().refine((s) => !isCalendarDate(s) || s <= latestAllowedDay(), message('date.future'));

export const trimmed = (max: number) => z.string().trim().min(1, message('required')).max(max, `At most ${max} characters`);

export const email = () =>
  z
    .string()
    .trim()
    .max(254)
    .pipe(z.email(message('email.invalid')));

export const isTimeZone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return tz.includes('/') || tz === 'UTC';
  } catch {
    return false;
  }
};

/** NPI check digit: Luhn over the 9 first digits prefixed with 80840 (CMS NPI standard) */
export const isValidNpi = (npi: string): boolean => {
  if (!/^\d{10}$/.test(npi)) return false;
  const digits = `80840${npi.slice(0, 9)}`;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10 === Number(npi[9]);
};

/** zod issues → `{ "patient.dateOfBirth": ["..."] }`, the API's `fields` shape */
export const fieldErrors = (error: z.ZodError): Record<string, string[]> => {
  const fields: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const path = issue.path.length ? issue.path.map(String).join('.') : '_';
    (fields[path] ??= []).push(issue.message);
  }
  return fields;
};
