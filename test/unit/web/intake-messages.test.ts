import { describe, expect, test } from '@jest/globals';
import { fieldErrors } from '../../../functions/lib/schemas/common';
import { IntakeSchema } from '../../../functions/lib/schemas/intake';
import { message, messageCode, SCHEMA_MESSAGES, type MessageCode } from '../../../functions/lib/schemas/messages';
import { DICTIONARIES, MESSAGE_KEYS } from '../../../web/src/intake/i18n';
import { translateMessage } from '../../../web/src/intake/messages';
import { translator } from '../../../web/src/shared/i18n';
import { intakeBody } from '../../support/fixtures';

// the schemas give message codes; the intake form words each code in English and Spanish, naming
// the question — never the generic "check this answer" for a rule the schemas know

const es = translator(DICTIONARIES, 'es');
const en = translator(DICTIONARIES, 'en');

describe('message codes', () => {
  test('every code has its own English text, and the text leads back to the code', () => {
    // Act
    const roundTrip = (Object.keys(SCHEMA_MESSAGES) as MessageCode[]).map((code) => messageCode(message(code)));

    // Assess
    expect(roundTrip).toEqual(Object.keys(SCHEMA_MESSAGES));
    expect(new Set(Object.values(SCHEMA_MESSAGES)).size).toBe(Object.keys(SCHEMA_MESSAGES).length);
  });

  test('every code is worded in both languages, and the two differ', () => {
    for (const code of Object.keys(SCHEMA_MESSAGES) as MessageCode[]) {
      const key = MESSAGE_KEYS[code];
      expect([code, DICTIONARIES.en[key].length > 0, DICTIONARIES.es[key] !== DICTIONARIES.en[key]]).toEqual([code, true, true]);
    }
  });

  test('what IntakeSchema says about bad answers reaches the Spanish form as its own words, not the fallback', () => {
    // Prepare: one wrong answer per rule
    const good = intakeBody();
    const bad = {
      ...good,
      patient: { ...good.patient, phone: '12', postalCode: 'x', email: 'not-an-email', dateOfBirth: '1850-01-01' },
      substances: [],
      insurance: { type: 'commercial', memberId: 'a b' },
      referringPhysician: { name: 'Dr. A', npi: '1234567890', email: 'dr@example.org' },
      consent: { ...good.consent, signedAt: 'yesterday' },
    };

    // Act
    const parsed = IntakeSchema.safeParse(bad);
    const fields = parsed.success ? {} : fieldErrors(parsed.error);
    const worded = Object.entries(fields).flatMap(([path, texts]) =>
      texts.map((t) => [path, messageCode(t), translateMessage(es, t, path, 'X')]),
    );

    // Assess: each is a known code, and the Spanish is not the generic wording
    expect(worded.length).toBeGreaterThanOrEqual(7);
    const generic = es.t('invalid.generic', { field: 'X' });
    for (const [path, code, text] of worded) expect([path, code !== undefined, text !== generic]).toEqual([path, true, true]);
  });

  test('a message outside the schemas: English as written, Spanish as the generic wording naming the question', () => {
    expect(translateMessage(en, 'The cohort is closed', 'notes', 'Notes')).toBe('The cohort is closed');
    expect(translateMessage(es, 'The cohort is closed', 'notes', 'Notas')).toBe(es.t('invalid.generic', { field: 'Notas' }));
  });
});
