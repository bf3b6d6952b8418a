import type { ReferralDetail } from '../../../../functions/lib/schemas/views';
import { api } from '../api';
import { announce, h } from '../dom';
import { sentence, words } from '../format';
import type { ViewContext } from './common';

// a referral that needs attention after an automatic step kept failing: what failed, and Resume,
// which restarts the workflow at that step (once the cause is fixed)

export function resumePanel(ctx: ViewContext, r: ReferralDetail): HTMLElement | null {
  if (r.status !== 'NEEDS_ATTENTION' || !r.failure) return null;
  const status = h('p', { role: 'status', class: 'muted' });
  const button = h('button', { type: 'button' }, `Resume at ${words(r.failure.resumeAt)}`);
  button.addEventListener('click', () => {
    void (async () => {
      button.disabled = true;
      const res = await api.resume(r.referralId);
      if (!ctx.alive()) return;
      button.disabled = false;
      if (!res.ok) {
        if (res.status !== 401) status.textContent = `Not resumed: ${sentence(res.error.message)}`;
        return;
      }
      announce('Resumed: the workflow restarts at the step that failed');
      ctx.reload();
    })();
  });
  return h(
    'section',
    { class: 'attention', 'aria-labelledby': 'attention-h' },
    h('h2', { id: 'attention-h' }, 'Needs attention'),
    h(
      'p',
      null,
      `An automatic step kept failing (${r.failure.error}) and the workflow stopped at ${words(r.failure.resumeAt)}. Once the cause is fixed, resume it there.`,
    ),
    h('p', { class: 'actions' }, button),
    status,
  );
}
