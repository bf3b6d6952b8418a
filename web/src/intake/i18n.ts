// the intake form's words: English (./i18n/en.ts) and Spanish (./i18n/es.ts, typed against the
// English: a missing translation does not compile); staff-mode wording (phone intake) overrides a
// few keys; the schemas' message codes mapped to the form's words.
import type { MessageCode } from '../../../functions/lib/schemas/messages';
import type { Lang } from '../shared/i18n';
import { en } from './i18n/en';
import { es } from './i18n/es';

export type IntakeKey = keyof typeof en;

/**
 * staff mode (phone intake): what the staff member reads out to the caller, word for word, in the
 * caller's language (the form's language switch); every other text is the staff member's own, in
 * English (staffEn over en)
 */
export const READ_ALOUD: ReadonlySet<IntakeKey> = new Set<IntakeKey>([
  'safety.thoughts',
  'safety.attempt',
  'crisis.body',
  'crisis.spanish',
  'crisis.emergency',
  'withdrawal.warning.title',
  'withdrawal.warning.body',
  'withdrawal.warning.now',
  'consent.who',
  'consent.who.none',
  'consent.what',
  'consent.what.value',
  'consent.what.received',
  'consent.what.accepted',
  'consent.what.enrolled',
  'consent.what.closed',
  'consent.what.identity',
  'consent.what.never',
  'consent.why',
  'consent.why.value',
  'consent.revoke',
  'consent.revoke.value',
  'consent.expiry',
  'consent.expiry.value',
  'consent.care',
  'consent.care.value',
  'consent.law',
]);

/** staff mode (phone intake): the wording addresses the staff member keying in a caller's answers */
const staffEn: Partial<Record<IntakeKey, string>> = {
  'lang.nav': 'Caller’s language',
  'form.title': 'Phone intake',
  'form.intro':
    'Key in the caller’s answers. Ask the safety questions first. The language switch changes what you read out to the caller (the safety questions, the 988 lines, the consent), not these instructions.',
  'form.privacy': 'Protected under 42 CFR Part 2: do not copy these answers elsewhere.',
  'form.help': 'Program phone:',
  'safety.title': 'Safety questions (ask first)',
  'safety.intro': 'Read both questions to the caller as written.',
  'crisis.title': 'Positive screen: give the caller 988 now',
  'crisis.continue': 'Stay with the caller if you can. The referral will be marked urgent.',
  'about.title': 'About the caller',
  'about.firstName': 'Caller’s first name',
  'about.lastName': 'Caller’s last name',
  'about.dateOfBirth': 'Caller’s date of birth',
  'about.phone': 'Caller’s phone number',
  'about.phone.hint': 'The case worker will call this number.',
  'about.email': 'Caller’s email (optional)',
  'about.language': 'Caller’s preferred language: {language}. Change it with the caller’s language switch at the top of the form.',
  'substances.question': 'What does the caller want help with?',
  'cooccurring.question': 'Co-occurring conditions the caller reports (optional)',
  'consent.intro': 'Read this to the caller word for word, then record their choice.',
  'consent.share': 'The caller agrees to share referral status with {physician}',
  'consent.signature': 'Caller’s full name (signature given by phone)',
  'consent.signature.hint': 'Type the name the caller says, as their signature.',
  'insurance.payer.hint':
    'Type, then choose the caller’s company from the list. A name not on the list is allowed: coverage is then checked by hand.',
  'insurance.payer.listed': 'On the list: the check goes to this payer.',
  'insurance.payer.unlisted': 'Not on the list: coverage will be checked by hand.',
  'schedule.question': 'Which group times work for the caller?',
  'notes.label': 'Notes (optional)',
  submit: 'Submit intake',
  'status.sending': 'Submitting the intake.',
  'done.title': 'Intake submitted',
  'done.reference': 'Reference number (read it to the caller)',
  'done.reference.hint': 'The caller uses it when they call the program.',
  'done.urgent': 'This referral is marked urgent.',
};

/**
 * The schemas' messages (functions/lib/schemas/messages.ts: a code, and the English the API
 * answers with) → the form's wording in either language, naming the question. A record over every
 * code: a new code without its words here does not compile.
 */
export const MESSAGE_KEYS: Record<MessageCode, IntakeKey> = {
  required: 'required.generic',
  'date.invalid': 'invalid.date',
  'date.future': 'invalid.future',
  'lastUse.beforeBirth': 'invalid.beforeBirth',
  'dateOfBirth.range': 'invalid.dobRange',
  'email.invalid': 'invalid.email',
  'phone.invalid': 'invalid.phone',
  'zip.invalid': 'invalid.zip',
  'id.chars': 'invalid.idChars',
  'payerId.chars': 'invalid.payerId',
  'npi.length': 'invalid.npiLength',
  'npi.check': 'invalid.npiCheck',
  'detox.dateNotCompleted': 'invalid.detoxDate',
  'consent.shareWithoutPhysician': 'invalid.shareNoPhysician',
  'substances.none': 'required.substances',
  'insurance.payerMissing': 'required.payer',
  'signedAt.invalid': 'invalid.signedAt',
  'signedAt.future': 'invalid.signedAt',
};

export const DICTIONARIES = { en, es } satisfies Record<Lang, Record<IntakeKey, string>>;
/** staff mode's own wording is English only (the read-out lines follow the caller's language) */
export const STAFF_OVERRIDES = { en: staffEn } satisfies Partial<Record<Lang, Partial<Record<IntakeKey, string>>>>;
