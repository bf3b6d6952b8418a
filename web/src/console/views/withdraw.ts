import { WithdrawSchema } from '../../../../functions/lib/schemas/decisions';
import type { ReferralDetail } from '../../../../functions/lib/schemas/views';
import { api } from '../api';
import { announce, h } from '../dom';
import { sentence } from '../format';
import { FormErrors, issuesToFields, textarea } from '../forms';
import { waitFor, type ViewContext } from './common';

// withdraw with a reason, confirmed in a native modal <dialog> (focus trapped, Esc closes,
// focus returns to the button) instead of window.confirm

export function withdrawControl(ctx: ViewContext, r: ReferralDetail): HTMLElement {
  const errors = new FormErrors('The referral was not withdrawn');
  const reason = textarea({
    label: 'Reason',
    path: 'reason',
    required: true,
    hint: 'Staff-only, at most 500 characters. The person and (with consent) the referrer are told the referral was closed; the reason is not sent.',
  });
  const confirm = h('button', { type: 'submit', class: 'danger' }, 'Withdraw referral');
  const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
  const form = h('form', { novalidate: true }, errors.summary, reason.el, h('p', { class: 'actions' }, confirm, cancel));
  const dialog = h(
    'dialog',
    { class: 'confirm', 'aria-labelledby': 'withdraw-h', 'aria-describedby': 'withdraw-d' },
    h('h2', { id: 'withdraw-h' }, `Withdraw referral ${r.reference}?`),
    h('p', { id: 'withdraw-d' }, 'This stops the workflow for good and cannot be undone.'),
    form,
  );
  const open = h('button', { type: 'button', class: 'danger secondary', 'aria-haspopup': 'dialog' }, 'Withdraw…');
  open.addEventListener('click', () => {
    errors.clear();
    dialog.showModal();
    reason.control.focus();
  });
  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => open.focus());

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void (async () => {
      const parsed = WithdrawSchema.safeParse({ reason: reason.control.value });
      if (!parsed.success) {
        errors.show(issuesToFields(parsed.error));
        return;
      }
      confirm.disabled = true;
      const res = await api.withdraw(r.referralId, parsed.data.reason);
      confirm.disabled = false;
      if (!ctx.alive()) return;
      if (!res.ok) {
        if (res.status === 400 && res.error.fields) errors.show(res.error.fields, res.error.message);
        else if (res.status === 409)
          errors.message(
            'Cannot withdraw',
            `The referral is already closed or has moved on. Server said: ${sentence(res.error.message)}`,
            h(
              'button',
              {
                type: 'button',
                onclick: () => {
                  dialog.close();
                  ctx.reload();
                },
              },
              'Reload referral',
            ),
          );
        else if (res.status === 403) errors.message('Not allowed for your account', res.error.message);
        else if (res.status !== 401) errors.message('Not withdrawn', res.error.message);
        return;
      }
      dialog.close();
      announce('Withdrawal recorded. Waiting for the workflow to stop…');
      await waitFor(async () => {
        if (!ctx.alive()) return false; // navigated away: stop polling
        const d = await api.referral(r.referralId);
        return d.ok && d.data.status === 'WITHDRAWN' ? true : undefined;
      }, 15_000);
      if (ctx.alive()) {
        announce('Referral withdrawn');
        ctx.reload();
      }
    })();
  });

  return h('div', { class: 'head-actions' }, open, dialog);
}
