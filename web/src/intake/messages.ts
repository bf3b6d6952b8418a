// the form's error messages: what the schema (zod) or the API says about a path, in the form's
// language, naming the question it is about ("Last use of alcohol: the date cannot be in the
// future"), never three bare "Answer yes or no".
import type { SUBSTANCES } from '../../../functions/lib/schemas/intake';
import type { Translator, Vars } from '../shared/i18n';
import { message, messageCode } from '../../../functions/lib/schemas/messages';
import { MESSAGE_KEYS, type IntakeKey } from './i18n';

/** the message for a question left unanswered, by path */
const REQUIRED_BY_PATH: Record<string, IntakeKey> = {
  'patient.firstName': 'required.firstName',
  'patient.lastName': 'required.lastName',
  'patient.dateOfBirth': 'required.dateOfBirth',
  'patient.phone': 'required.phone',
  'screening.selfHarmThoughtsPastMonth': 'required.selfHarm',
  'screening.suicideAttemptPastThreeMonths': 'required.attempt',
  'withdrawal.currentSymptoms': 'required.symptoms',
  'withdrawal.detoxStatus': 'required.detoxStatus',
  substances: 'required.substances',
  'insurance.type': 'required.insuranceType',
  'referringPhysician.name': 'required.physicianName',
  'referringPhysician.npi': 'required.physicianNpi',
  'referringPhysician.email': 'required.physicianEmail',
  'consent.signature': 'required.signature',
  schedulePreference: 'required.schedule',
};

/** the short name of the question at a path, for messages that must say which answer is wrong */
const NAME_BY_PATH: Record<string, IntakeKey> = {
  'patient.firstName': 'name.firstName',
  'patient.lastName': 'name.lastName',
  'patient.dateOfBirth': 'name.dateOfBirth',
  'patient.phone': 'name.phone',
  'patient.email': 'name.email',
  'patient.postalCode': 'name.postalCode',
  'withdrawal.detoxCompletedOn': 'name.detoxCompletedOn',
  'insurance.payer': 'name.payer',
  'insurance.memberId': 'name.memberId',
  'insurance.groupNumber': 'name.groupNumber',
  'referringPhysician.name': 'name.physicianName',
  'referringPhysician.npi': 'name.npi',
  'referringPhysician.email': 'name.physicianEmail',
  'referringPhysician.practice': 'name.practice',
  'consent.signature': 'name.signature',
  notes: 'name.notes',
};

/**
 * The form's own message for a date box holding part of a date (the browser then hands the form
 * no value). The words name no format: the box shows its own (mm/dd/yyyy, dd/mm/aaaa or a phone's
 * picker, following the browser, not the page), so the message asks for month, day and year.
 */
export const INCOMPLETE_DATE = message('date.invalid');

/**
 * A message from the schema (zod) or the API for `path`, in the form's language and naming its
 * question (`field`, the question's short name, e.g. "Last use of alcohol").
 */
export const translateMessage = (tr: Translator<IntakeKey>, text: string, path: string, field: string = tr.t('name.generic')): string => {
  const vars: Vars = { field };
  // zod's built-in texts ("Invalid input: expected boolean, received undefined", "Invalid option:
  // expected one of ...") on a question the form always offers mean "not answered"
  const code = messageCode(text);
  const required = REQUIRED_BY_PATH[path];
  if (required && (code === 'required' || /^Invalid (input|option)\b/.test(text))) return tr.t(required);
  if (code === 'required' || /received undefined$/.test(text)) return tr.t('required.generic', vars);
  const max = /^(?:At most (\d+) characters|Too big: expected string to have <=(\d+) characters)$/.exec(text);
  if (max) return tr.t('invalid.max', { ...vars, n: max[1] ?? max[2] ?? '' });
  if (code) return tr.t(MESSAGE_KEYS[code], vars);
  // a message that is no schema code (an API rule outside the schemas): its English as written; otherwise "check this answer"
  if (tr.lang === 'en' && !/^(Invalid|Too (big|small))\b/.test(text)) return text;
  return tr.t('invalid.generic', vars);
};

/**
 * The short name of the question at `path` ("Date of birth", "Last use of alcohol");
 * `substanceAt(i)` tells which substance the i-th `substances.<i>.lastUse` is about.
 */
export const questionName = (
  tr: Translator<IntakeKey>,
  path: string,
  substanceAt: (i: number) => (typeof SUBSTANCES)[number] | undefined,
): string => {
  const lastUseAt = /^substances\.(\d+)\.lastUse$/.exec(path);
  if (lastUseAt) {
    const s = substanceAt(Number(lastUseAt[1]));
    return tr.t('name.lastUse', { substance: s ? tr.t(`short.${s}`) : '' });
  }
  return tr.t(NAME_BY_PATH[path] ?? 'name.generic');
};
