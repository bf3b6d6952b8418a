import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROGRAM_DEFAULTS } from '../../../functions/lib/program';
import { withProgramPhone } from '../../../web/program-page';

// the program's phone reaches the intake page from one setting: the build writes the default, a
// deployment its own (the page's source carries neither)

const source = readFileSync(join(import.meta.dirname, '../../../web/src/intake/index.html'), 'utf8');

describe('withProgramPhone', () => {
  test('the page source names no phone; the build writes the default into the meta the form reads and the no-script line', () => {
    // Act
    const page = withProgramPhone(source, PROGRAM_DEFAULTS.phone);

    // Assess
    expect(source).not.toMatch(/\d{3}\) \d{3}-\d{4}/);
    expect(page).toContain('<meta name="program-phone" content="(555) 010-0100">');
    expect(page).toContain('<a data-program-phone href="tel:5550100100">(555) 010-0100</a>');
  });

  test('a configured phone replaces the one there, escaped as HTML', () => {
    const built = withProgramPhone(source, PROGRAM_DEFAULTS.phone);

    const page = withProgramPhone(built, '+1 (800) 555-0199 "ext" <2>');

    expect(page).not.toContain('010-0100');
    expect(page).toContain('<meta name="program-phone" content="+1 (800) 555-0199 &quot;ext&quot; &lt;2&gt;">');
    expect(page).toContain('href="tel:+180055501992"');
  });

  test('a page without the markers is left as it is', () => {
    expect(withProgramPhone('<p>no phone here</p>', '(555) 010-0100')).toBe('<p>no phone here</p>');
  });
});
