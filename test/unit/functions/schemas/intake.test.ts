import { describe, expect, test } from '@jest/globals';
import { IntakeSchema, NOTES_MAX, type Intake } from '../../../../functions/lib/schemas/intake';
import { fieldErrors, isCalendarDate, isValidNpi } from '../../../../functions/lib/schemas/common';
import { dayFromToday, validIntake } from '../support/fixtures';
import { nowMs } from '../../../../functions/lib/clock';

/** the dotted paths the API would report in `fields` for a body */
const failingPaths = (body: unknown): string[] => {
  const parsed = IntakeSchema.safeParse(body);
  return parsed.success ? [] : Object.keys(fieldErrors(parsed.error));
};

/** a valid intake with one change */
const intakeWith = (change: (b: Intake) => void): Intake => {
  const b = validIntake();
  change(b);
  return b;
};

describe('IntakeSchema', () => {
  test('a complete valid body passes and comes back as given', () => {
    // Prepare
    const body = validIntake();

    // Act
    const parsed = IntakeSchema.safeParse(body);

    // Assess
    expect(parsed.success).toBe(true);
    expect(parsed.data).toEqual(body);
  });

  test('a minimal body (no optional fields) passes', () => {
    // Prepare
    const { referringPhysician: _doc, notes: _n, coOccurring: _c, ...rest } = validIntake();
    const body = {
      ...rest,
      consent: { ...rest.consent, shareWithReferrer: false },
      patient: { ...rest.patient, email: undefined, postalCode: undefined },
    };

    // Act
    const parsed = IntakeSchema.safeParse(body);

    // Assess
    expect(parsed.success).toBe(true);
  });

  test.each<{ what: string; change: (b: Intake) => void; path: string }>([
    {
      what: 'an impossible date of birth (2025-02-30)',
      change: (b: Intake) => {
        b.patient.dateOfBirth = '2025-02-30';
      },
      path: 'patient.dateOfBirth',
    },
    // the last use is dropped: before a future birth date it would fail as well
    {
      what: 'a date of birth in the future',
      change: (b: Intake) => {
        b.patient.dateOfBirth = dayFromToday(3);
        b.substances = [{ substance: 'alcohol' }];
      },
      path: 'patient.dateOfBirth',
    },
    {
      what: 'a last use in the future',
      change: (b: Intake) => {
        b.substances[0]!.lastUse = dayFromToday(3);
      },
      path: 'substances.0.lastUse',
    },
    {
      what: 'an impossible last use (2025-02-30)',
      change: (b: Intake) => {
        b.substances[1]!.lastUse = '2025-02-30';
      },
      path: 'substances.1.lastUse',
    },
    {
      what: 'a detox completion date in the future',
      change: (b: Intake) => {
        b.withdrawal = { currentSymptoms: false, detoxStatus: 'completed', detoxCompletedOn: dayFromToday(3) };
      },
      path: 'withdrawal.detoxCompletedOn',
    },
    {
      what: 'a detox completion date while detox is not completed',
      change: (b: Intake) => {
        b.withdrawal = { currentSymptoms: true, detoxStatus: 'in-detox', detoxCompletedOn: '2025-05-01' };
      },
      path: 'withdrawal.detoxCompletedOn',
    },
    {
      what: 'an NPI whose check digit does not match',
      change: (b: Intake) => {
        b.referringPhysician!.npi = '1234567890';
      },
      path: 'referringPhysician.npi',
    },
    {
      what: 'consent to share with a referrer but no referring physician',
      change: (b: Intake) => {
        delete b.referringPhysician;
        b.consent.shareWithReferrer = true;
      },
      path: 'referringPhysician',
    },
    {
      what: 'notes over 2000 characters',
      change: (b: Intake) => {
        b.notes = 'x'.repeat(NOTES_MAX + 1);
      },
      path: 'notes',
    },
    {
      what: 'no substance chosen',
      change: (b: Intake) => {
        b.substances = [];
      },
      path: 'substances',
    },
    {
      what: 'a last use before the date of birth',
      change: (b: Intake) => {
        b.substances[0]!.lastUse = '1987-01-01';
      },
      path: 'substances.0.lastUse',
    },
    {
      what: 'a phone number with letters',
      change: (b: Intake) => {
        b.patient.phone = 'call me maybe';
      },
      path: 'patient.phone',
    },
    {
      what: 'a phone number with too few digits',
      change: (b: Intake) => {
        b.patient.phone = '555-0100';
      },
      path: 'patient.phone',
    },
    {
      what: 'an email without a domain',
      change: (b: Intake) => {
        b.patient.email = 'jordan@';
      },
      path: 'patient.email',
    },
    {
      what: 'a physician email that is not an email',
      change: (b: Intake) => {
        b.referringPhysician!.email = 'dr lopez';
      },
      path: 'referringPhysician.email',
    },
    {
      what: 'a signing time in the future',
      change: (b: Intake) => {
        b.consent.signedAt = new Date(nowMs() + 3_600_000).toISOString();
      },
      path: 'consent.signedAt',
    },
    {
      what: 'private insurance without its company',
      change: (b: Intake) => {
        delete b.insurance.payer;
      },
      path: 'insurance.payer',
    },
    {
      what: 'private insurance with a blank company',
      change: (b: Intake) => {
        b.insurance.payer = '   ';
      },
      path: 'insurance.payer',
    },
    {
      what: 'a language the program does not offer',
      change: (b: Intake) => {
        (b.patient as { preferredLanguage: string }).preferredLanguage = 'fr';
      },
      path: 'patient.preferredLanguage',
    },
  ])('$what fails naming $path', ({ change, path }) => {
    // Prepare
    const body = intakeWith(change);

    // Act
    const paths = failingPaths(body);

    // Assess
    expect(paths).toEqual([path]);
  });

  test('notes of exactly 2000 characters of any kind pass (stored as data)', () => {
    // Prepare
    const body = intakeWith((b) => {
      b.notes = '<script>'.padEnd(NOTES_MAX, '☃');
    });

    // Act
    const parsed = IntakeSchema.safeParse(body);

    // Assess
    expect(parsed.success).toBe(true);
  });

  test('a last use on the date of birth itself is accepted (only before is impossible)', () => {
    // Prepare
    const body = intakeWith((b) => {
      b.substances[0]!.lastUse = b.patient.dateOfBirth;
    });

    // Act
    const paths = failingPaths(body);

    // Assess
    expect(paths).toEqual([]);
  });

  test('fieldErrors keys each problem by its dotted path with a message that does not echo the value', () => {
    // Prepare
    const body = intakeWith((b) => {
      b.patient.phone = 'Jordan-Quintana';
      b.patient.dateOfBirth = '1988-13-01';
    });

    // Act
    const fields = fieldErrors(IntakeSchema.safeParse(body).error!);

    // Assess
    expect(Object.keys(fields).sort()).toEqual(['patient.dateOfBirth', 'patient.phone']);
    expect(JSON.stringify(fields)).not.toMatch(/Jordan|Quintana|1988/);
  });
});

describe('IntakeSchema messages', () => {
  /** the messages the API would report for one path */
  const messagesAt = (body: unknown, path: string): string[] => {
    const parsed = IntakeSchema.safeParse(body);
    return parsed.success ? [] : (fieldErrors(parsed.error)[path] ?? []);
  };

  test.each([
    { npi: '12345', message: 'Enter the NPI as 10 digits' },
    { npi: '123 456 7893', message: 'Enter the NPI as 10 digits' },
    { npi: '12345678930', message: 'Enter the NPI as 10 digits' },
    { npi: '1234567890', message: 'Check the NPI: its check digit does not match' },
  ])('an NPI "$npi" is told "$message" (length before check digit), once', ({ npi, message }) => {
    // Prepare
    const body = intakeWith((b) => {
      b.referringPhysician!.npi = npi;
    });

    // Act
    const messages = messagesAt(body, 'referringPhysician.npi');

    // Assess
    expect(messages).toEqual([message]);
  });

  test('an empty date is a missing answer, not a format problem; a badly written one names the format', () => {
    // Prepare
    const empty = intakeWith((b) => {
      b.patient.dateOfBirth = '';
    });
    const written = intakeWith((b) => {
      b.patient.dateOfBirth = '04/12/1990';
    });

    // Act
    const [emptyMessages, writtenMessages] = [messagesAt(empty, 'patient.dateOfBirth'), messagesAt(written, 'patient.dateOfBirth')];

    // Assess
    expect(emptyMessages).toEqual(['Required']);
    expect(writtenMessages).toEqual(['Enter a real date as YYYY-MM-DD']);
  });

  test('private insurance without its company is reported together with the other problems', () => {
    // Prepare
    const body = intakeWith((b) => {
      delete b.insurance.payer;
      b.insurance.memberId = 'not valid!';
      b.patient.phone = '12';
    });

    // Act
    const paths = failingPaths(body).sort();

    // Assess
    expect(paths).toEqual(['insurance.memberId', 'insurance.payer', 'patient.phone']);
    expect(messagesAt(body, 'insurance.payer')).toEqual(['Enter the insurance company']);
  });

  test.each(['medicaid', 'medicare', 'self-pay'] as const)('%s without a company passes', (type) => {
    // Prepare
    const body = intakeWith((b) => {
      b.insurance = { type };
    });

    // Act
    const paths = failingPaths(body);

    // Assess
    expect(paths).toEqual([]);
  });
});

describe('isCalendarDate', () => {
  test.each(['2024-02-29', '2025-12-31', '2000-02-29'])('%s is a real date', (d) => {
    expect(isCalendarDate(d)).toBe(true);
  });

  test.each(['2025-02-30', '2023-02-29', '1900-02-29', '2025-13-01', '2025-1-01', '2025-04-31', ''])('"%s" is not', (d) => {
    expect(isCalendarDate(d)).toBe(false);
  });
});

describe('isValidNpi', () => {
  test('1234567893 (the CMS worked example) has a matching check digit', () => {
    expect(isValidNpi('1234567893')).toBe(true);
  });

  test.each(['1234567890', '1234567894', '123456789', '12345678930', '123456789X'])('%s is rejected', (npi) => {
    expect(isValidNpi(npi)).toBe(false);
  });
});
