import { describe, expect, test } from '@jest/globals';
import ICAL from 'ical.js';
import { simpleParser } from 'mailparser';
import { buildMime, encodeHeaderValue } from '../../../../functions/lib/adapters/ses-mailer';

// the raw MIME the SES mailer sends, read back by a real MIME parser (mailparser, as mail clients
// and the SES emulator read it): headers, text and HTML, and the calendar invitation's two forms

const FROM = 'IOP Intake <no-reply@mail.iop-program.org>';
const AT = new Date('2026-12-01T15:22:35Z');

const ics = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//bench//EN',
  'METHOD:REQUEST',
  'BEGIN:VEVENT',
  'UID:abc@iop',
  'DTSTAMP:20261201T152235Z',
  'DTSTART:20261207T230000Z',
  'DTEND:20261208T020000Z',
  'SUMMARY:Sesión de grupo',
  'LOCATION:12 Harbor St\\, Suite 3\\, Boston\\, MA 02110',
  'DESCRIPTION:Llame al (555) 010-0100 si no puede venir. Una línea larga que pasa de setenta y cinco ',
  ' octetos para que se pliegue como manda el RFC 5545 y luego un poco más.',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

const spanish = {
  to: ['pt.quintana@example.org'],
  subject: 'Su calendario de grupo: la primera sesión es el miércoles (IOP-7KQ4-M3TD)',
  text: `Hola:\nSu primera sesión es el miércoles 9 de diciembre, 18:00.\nQué traer: una identificación con foto. ${'x'.repeat(120)}\n`,
  html: '<!doctype html><html lang="es"><head><title>Su calendario</title></head><body><p>Su primera sesión es el <strong>miércoles</strong>.</p></body></html>',
};

describe('MIME built for SES', () => {
  test('text and HTML: multipart/alternative with headers a parser reads back exactly (non-ASCII subject and body, long lines)', async () => {
    // Act
    const raw = buildMime(FROM, spanish, AT);
    const mail = await simpleParser(raw);

    // Assess
    expect(mail.subject).toBe(spanish.subject);
    expect(mail.from?.value).toEqual([{ address: 'no-reply@mail.iop-program.org', name: 'IOP Intake' }]);
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value.map((v) => v.address) : []).toEqual(['pt.quintana@example.org']);
    expect(mail.date?.toISOString()).toBe(AT.toISOString());
    expect(mail.messageId).toMatch(/^<[0-9a-f-]{36}@mail\.iop-program\.org>$/);
    expect(mail.text).toBe(spanish.text);
    expect(mail.html).toBe(spanish.html);
    expect(mail.attachments).toHaveLength(0);
    expect(raw).toMatch(/^Content-Type: multipart\/alternative;/m);
    expect(raw).not.toMatch(/text\/calendar|invite\.ics/);
    // every line within RFC 5322's 78 characters, CRLF only, 7-bit
    const lines = raw.split('\r\n');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(78);
    expect(raw.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(raw).toMatch(/^[\x00-\x7f]*$/);
  });

  test('a schedule: the calendar as a text/calendar REQUEST alternative and as invite.ics, both the same invitation', async () => {
    // Act
    const raw = buildMime(FROM, { ...spanish, calendar: ics }, AT);
    const mail = await simpleParser(raw);

    // Assess: the structure Gmail and Outlook turn into an invitation
    expect(raw).toMatch(/^Content-Type: multipart\/mixed;/m);
    expect(raw).toMatch(/Content-Type: text\/calendar; charset=utf-8; method=REQUEST/);
    expect(mail.text).toBe(spanish.text);
    expect(mail.html).toBe(spanish.html);
    const invite = mail.attachments.find((a) => a.filename === 'invite.ics');
    expect(invite?.contentType).toBe('application/ics');
    expect(invite?.content.toString('utf8')).toBe(ics);
    // the alternative carries the same calendar (mailparser lists it as a text/calendar attachment)
    const alternative = mail.attachments.find((a) => a.contentType === 'text/calendar');
    expect(alternative?.content.toString('utf8')).toBe(ics);
    // and it is a calendar: a REQUEST with the event's title, place and time
    const cal = new ICAL.Component(ICAL.parse(alternative!.content.toString('utf8')));
    expect(cal.getFirstPropertyValue('method')).toBe('REQUEST');
    const event = new ICAL.Event(cal.getFirstSubcomponent('vevent')!);
    expect(event.summary).toBe('Sesión de grupo');
    expect(event.location).toBe('12 Harbor St, Suite 3, Boston, MA 02110');
    expect(event.startDate.toJSDate().toISOString()).toBe('2026-12-07T23:00:00.000Z');
    expect(Math.max(...raw.split('\r\n').map((l) => l.length))).toBeLessThanOrEqual(78);
  });

  test('an ASCII subject stays as it is; a long non-ASCII one becomes encoded words of at most 64 characters, no character split', async () => {
    expect(encodeHeaderValue('Your group schedule (IOP-7KQ4-M3TD)')).toBe('Your group schedule (IOP-7KQ4-M3TD)');
    const subject = `${'ñ'.repeat(40)} — 日本語のテキスト ${'€'.repeat(30)}`;
    const encoded = encodeHeaderValue(subject);
    for (const word of encoded.split('\r\n ')) expect(word.length).toBeLessThanOrEqual(64);
    const mail = await simpleParser(buildMime('no-reply@example.com', { to: ['a@example.org'], subject, text: 't', html: '<p>t</p>' }, AT));
    expect(mail.subject).toBe(subject);
  });
});
