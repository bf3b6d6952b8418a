import type { z } from 'zod';
import {
  CONTACT_CHANNELS,
  CONTACT_OUTCOMES,
  ContactSchema,
  REVOCATION_CHANNELS,
  RevokeConsentSchema,
  USERNAME_RE,
} from '../../../../functions/lib/schemas/caseload';
import { FINAL_STATUSES, type ReferralDetail } from '../../../../functions/lib/schemas/views';
import { api } from '../api';
import { announce, h, nextId, type Child } from '../dom';
import { dateTime, sentence } from '../format';
import { FormErrors, input, issuesToFields, opt, radios, requiredError, select, textarea } from '../forms';
import type { ViewContext } from './common';
import { CONTACT_CHANNEL, CONTACT_OUTCOME, RECEIVED_VIA } from './timeline';

// the referral's follow-up (caseload): who owns it (assign to me, to a colleague, take over,
// release), the last contact and the contact log form; and the patient's consent to share with the
// physician, with the form that records its revocation. Each answer reloads the referral, so the
// timeline shows the new event at once.

/** "YYYY-MM-DDTHH:MM" of now in the browser's zone, for a datetime-local box */
const localNow = (): string => {
  const d = new Date();
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
};

/** a date and time up to now, now by default (a contact made, a revocation received) */
const pastMoment = () => ({ type: 'datetime-local' as const, value: localNow(), attrs: { max: localNow() } });

/** the optional staff-only note of a caseload form */
const staffNote = (max: number) =>
  textarea({ label: 'Note', path: 'note', rows: 2, hint: `Optional, at most ${max} characters. Staff-only.`, attrs: { maxlength: max } });

/** a datetime-local value (browser zone) as an ISO instant; '' stays unset */
const instant = (local: string): string | undefined => {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? local : d.toISOString();
};

/** staff usernames this referral's timeline knows, for the "assign to" suggestions */
const knownStaff = (r: ReferralDetail, me: string): string[] =>
  [
    ...new Set([
      me,
      ...r.events.flatMap((e) => [
        e.actor.kind === 'staff' ? e.actor.username : undefined,
        typeof e.detail?.to === 'string' ? e.detail.to : undefined,
      ]),
    ]),
  ]
    .filter((u): u is string => !!u && USERNAME_RE.test(u))
    .sort();

export function followUpPanel(ctx: ViewContext, r: ReferralDetail): HTMLElement {
  const me = ctx.session.username;
  const final = FINAL_STATUSES.includes(r.status);
  const owner = r.assignment?.username;
  const errors = new FormErrors('The assignment was not changed');

  const send = async (assignee: string | null, expected?: string | null): Promise<void> => {
    errors.clear();
    const res = await api.assign(r.referralId, { assignee, ...(expected !== undefined ? { expected } : {}) });
    if (!ctx.alive()) return;
    if (res.ok) {
      announce(assignee ? `Assigned to ${assignee}` : 'Released');
      ctx.reload();
      return;
    }
    if (res.status === 409 && res.error.error === 'AlreadyAssigned' && owner) {
      // someone else owns it: say so, and offer the takeover explicitly (recorded with both names)
      errors.message(
        `Assigned to ${owner}`,
        `${sentence(res.error.message)}`,
        h('button', { type: 'button', class: 'primary', onclick: () => void send(assignee, owner) }, `Take over from ${owner}`),
      );
    } else if (res.status === 409) {
      errors.message(
        'The assignment changed meanwhile',
        sentence(res.error.message),
        h('button', { type: 'button', onclick: () => ctx.reload() }, 'Reload referral'),
      );
    } else if (res.status === 400 && res.error.fields) {
      errors.show({ assignee: res.error.fields.assignee ?? [res.error.message] });
    } else if (res.status !== 401) {
      errors.message('The assignment was not changed', res.error.message);
    }
  };

  const listId = nextId('staff');
  const other = input({
    label: 'Assign to a colleague',
    path: 'assignee',
    hint: 'Their staff username.',
    attrs: { list: listId, autocomplete: 'off', spellcheck: 'false', maxlength: 128 },
  });
  const assignForm = h(
    'form',
    { class: 'assign-form', novalidate: true, 'aria-label': 'Assign to a colleague' },
    errors.summary,
    h('div', { class: 'inline-fields' }, other.el, h('button', { type: 'submit' }, 'Assign')),
    h(
      'datalist',
      { id: listId },
      knownStaff(r, me).map((u) => h('option', { value: u })),
    ),
  );
  assignForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = other.control.value.trim();
    if (!USERNAME_RE.test(name)) {
      errors.show({ assignee: ['Enter a staff username'] });
      return;
    }
    // naming the owner seen makes a takeover explicit; nobody seen means nobody may have taken it meanwhile
    void send(name, owner && owner !== me ? undefined : (owner ?? null));
  });

  const ownerLine = owner
    ? h(
        'p',
        { class: 'owner' },
        h('strong', null, owner === me ? 'Assigned to you' : `Assigned to ${owner}`),
        ` since ${dateTime(r.assignment!.since)}`,
      )
    : h(
        'p',
        { class: 'owner' },
        h('strong', null, 'Nobody follows this referral up yet.'),
        final ? '' : ' Assign it so it shows in someone’s “My referrals”.',
      );

  const buttons = final
    ? null
    : h(
        'p',
        { class: 'actions' },
        owner !== me
          ? h(
              'button',
              { type: 'button', class: 'primary', onclick: () => void send(me, owner ?? null) },
              owner ? `Take over from ${owner}` : 'Assign to me',
            )
          : null,
        owner
          ? h(
              'button',
              { type: 'button', class: 'secondary', onclick: () => void send(null, owner) },
              owner === me ? 'Release' : `Release (unassign ${owner})`,
            )
          : null,
      );

  const last = r.lastContact
    ? h(
        'p',
        { class: 'last-contact' },
        h('strong', null, 'Last contact: '),
        `${CONTACT_CHANNEL[r.lastContact.channel] ?? r.lastContact.channel}, ${CONTACT_OUTCOME[r.lastContact.outcome] ?? r.lastContact.outcome} — ${dateTime(r.lastContact.at)}, by ${r.lastContact.by.username ?? 'staff'}`,
      )
    : h('p', { class: 'last-contact muted' }, 'No contact attempt logged yet.');

  return h(
    'section',
    { class: 'panel follow-up', 'aria-labelledby': 'follow-h' },
    h('h2', { id: 'follow-h' }, 'Follow-up'),
    ownerLine,
    buttons,
    final ? null : assignForm,
    h('h3', null, 'Contact log'),
    last,
    contactForm(ctx, r),
  );
}

function contactForm(ctx: ViewContext, r: ReferralDetail): HTMLElement {
  const errors = new FormErrors('The attempt was not logged');
  const channel = radios({
    label: 'How',
    path: 'channel',
    required: true,
    inline: true,
    options: CONTACT_CHANNELS.map((c) => ({ value: c, label: CONTACT_CHANNEL[c]! })),
  });
  const result = select({
    label: 'Outcome',
    path: 'outcome',
    required: true,
    placeholder: 'Choose an outcome',
    options: CONTACT_OUTCOMES.map((o) => ({ value: o, label: CONTACT_OUTCOME[o]!.replace(/^./, (c) => c.toUpperCase()) })),
  });
  const when = input({ ...pastMoment(), label: 'When', path: 'at', hint: 'Leave as it is for an attempt made just now.' });
  const note = staffNote(1000);
  const submit = h('button', { type: 'submit' }, 'Log the attempt');
  const form = h(
    'form',
    { class: 'contact-form', novalidate: true, 'aria-label': 'Log a contact attempt' },
    errors.summary,
    channel.el,
    result.el,
    when.el,
    note.el,
    h('p', { class: 'actions' }, submit),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void (async () => {
      errors.clear();
      const parsed = (ContactSchema as z.ZodType).safeParse(
        {
          channel: channel.value() || undefined,
          outcome: result.control.value || undefined,
          at: instant(when.control.value),
          note: opt(note.control.value),
        },
        { error: requiredError },
      );
      if (!parsed.success) {
        errors.show(issuesToFields(parsed.error));
        return;
      }
      submit.disabled = true;
      const res = await api.logContact(r.referralId, parsed.data);
      submit.disabled = false;
      if (!ctx.alive()) return;
      if (res.ok) {
        announce('Contact attempt logged');
        ctx.reload();
      } else if (res.status === 400 && res.error.fields) {
        errors.show(res.error.fields, res.error.message);
      } else if (res.status !== 401) {
        errors.message('The attempt was not logged', res.error.message);
      }
    })();
  });
  return form;
}

/** the consent to share with the referring physician: as given, or its revocation, and the form that records one */
export function consentPanel(ctx: ViewContext, r: ReferralDetail): HTMLElement {
  const c = r.intake.consent;
  const doc = r.intake.referringPhysician;
  const head = h('h2', { id: 'consent-h' }, 'Consent to share with the physician');
  const panel = (...children: Child[]) => h('section', { class: 'panel consent-panel', 'aria-labelledby': 'consent-h' }, head, ...children);
  if (r.consentRevoked) {
    const v = r.consentRevoked;
    return panel(
      h(
        'p',
        { class: 'notice warn revoked' },
        h('strong', null, 'Consent revoked. '),
        `Received ${RECEIVED_VIA[v.receivedVia] ?? v.receivedVia} on ${dateTime(v.at)}, recorded by ${v.by.username ?? 'staff'}. No email goes to the physician from then on.`,
      ),
    );
  }
  if (!c.shareWithReferrer || !doc) {
    return panel(h('p', { class: 'muted' }, 'None given: nothing is shared with a physician.'));
  }

  const errors = new FormErrors('The revocation was not recorded');
  const via = radios({
    label: 'How the person told the program',
    path: 'receivedVia',
    required: true,
    inline: true,
    options: REVOCATION_CHANNELS.map((v) => ({
      value: v,
      label: RECEIVED_VIA[v]!.replace(/^by /, '').replace(/^./, (x) => x.toUpperCase()),
    })),
  });
  const when = input({ ...pastMoment(), label: 'When it was received', path: 'receivedAt', required: true });
  const note = staffNote(500);
  const confirm = h('div', { class: 'confirm', hidden: true });
  const submit = h('button', { type: 'submit', class: 'danger' }, 'Record the revocation');
  const form = h(
    'form',
    { class: 'revoke-form', novalidate: true, 'aria-labelledby': 'revoke-h' },
    h('h3', { id: 'revoke-h' }, 'Record a revocation'),
    errors.summary,
    via.el,
    when.el,
    note.el,
    h('p', { class: 'actions' }, submit),
    confirm,
  );

  const body = () => ({ receivedVia: via.value() || undefined, receivedAt: instant(when.control.value), note: opt(note.control.value) });

  const record = async (): Promise<void> => {
    const res = await api.revokeConsent(r.referralId, body());
    if (!ctx.alive()) return;
    if (res.ok) {
      announce(`Consent revocation recorded${res.data.cancelledNotices ? `; ${res.data.cancelledNotices} waiting email cancelled` : ''}`);
      ctx.reload();
    } else {
      confirm.hidden = true;
      submit.hidden = false;
      if (res.status === 400 && res.error.fields) errors.show(res.error.fields, res.error.message);
      else if (res.status === 409)
        errors.message(
          'Not recorded',
          sentence(res.error.message),
          h('button', { type: 'button', onclick: () => ctx.reload() }, 'Reload referral'),
        );
      else if (res.status !== 401) errors.message('The revocation was not recorded', res.error.message);
    }
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    errors.clear();
    const parsed = (RevokeConsentSchema as z.ZodType).safeParse(body(), { error: requiredError });
    if (!parsed.success) {
      errors.show(issuesToFields(parsed.error));
      return;
    }
    // a revocation cannot be undone here: one more explicit step
    submit.hidden = true;
    const yes = h('button', { type: 'button', class: 'danger', onclick: () => void record() }, 'Yes, stop all physician emails');
    const no = h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: () => {
          confirm.hidden = true;
          submit.hidden = false;
          submit.focus();
        },
      },
      'Cancel',
    );
    confirm.replaceChildren(
      h('p', { role: 'alert' }, `From now on no email about this referral goes to ${doc.name}. Emails already sent stay sent.`),
      h('p', { class: 'actions' }, yes, no),
    );
    confirm.hidden = false;
    yes.focus();
  });

  return panel(
    h('p', null, `Given at intake: status updates to ${doc.name} (signed ${dateTime(c.signedAt)}).`),
    h(
      'p',
      { class: 'hint' },
      'The person may withdraw this consent at any time — by phone, in person, by letter or by email (the form told them how). Record it here: no further email goes to the physician, and waiting ones are cancelled.',
    ),
    form,
  );
}
