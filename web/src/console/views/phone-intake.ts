import { mountIntakeForm } from '../../intake/form';
import { postPhoneIntake } from '../api';
import { h } from '../dom';
import type { ViewContext } from './common';

// phone intake: the intake form (shared with the public page) in staff mode, posting to
// /api/staff/referrals with the Bearer token; the new referral opens from the confirmation

export function phoneIntakeView(ctx: ViewContext): HTMLElement {
  const root = h('div', { class: 'phone-form' });
  const after = h('div', { class: 'phone-after', 'aria-live': 'polite' });
  const el = h(
    'section',
    { class: 'phone', 'aria-labelledby': 'page-h' },
    h('h1', { id: 'page-h', tabindex: '-1' }, 'Phone intake'),
    h(
      'p',
      { class: 'muted' },
      'Key in the caller’s answers. The referral is recorded as a phone intake under your name. If the caller screens positive for suicide risk, give them 988 (call or text) at once.',
    ),
    after,
    root,
  );
  mountIntakeForm(root, {
    mode: 'staff',
    submit: (body, key) => postPhoneIntake(body, key),
    onSubmitted: (result) => {
      if (!ctx.alive()) return;
      after.replaceChildren(
        h(
          'p',
          { class: 'notice ok' },
          h('span', { 'aria-hidden': 'true' }, '✓ '),
          `Referral ${result.reference} created. `,
          h('a', { href: `#/referral/${encodeURIComponent(result.referralId)}` }, 'Open the referral'),
        ),
      );
    },
  });
  return el;
}
