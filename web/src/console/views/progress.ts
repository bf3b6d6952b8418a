import type { ReferralDetail } from '../../../../functions/lib/schemas/views';
import { h } from '../dom';
import { dateTime } from '../format';
import { graph, progressOf, type FlowNode, type Progress } from '../workflow-model';

// the workflow progress view: every state of statemachines/referral.asl.json (routers small),
// the path this referral took, and the current gate; ASL Comments are the descriptions

const KIND_LABEL: Record<FlowNode['kind'], string> = {
  automatic: 'Automatic',
  gate: 'Human gate',
  router: 'Route',
  pass: 'Step',
  end: 'End',
};

const PROGRESS_LABEL: Record<Progress, { mark: string; text: string }> = {
  done: { mark: '✓', text: 'Done' },
  current: { mark: '●', text: 'Current gate' },
  skipped: { mark: '–', text: 'Skipped' },
  ahead: { mark: '○', text: 'Not reached' },
  stopped: { mark: '■', text: 'Stopped here' },
  final: { mark: '✓', text: 'Closed' },
};

export function progressView(r: ReferralDetail): HTMLElement {
  const p = progressOf(graph, r);

  const node = (n: FlowNode): HTMLElement => {
    const state = p.state.get(n.name) ?? 'ahead';
    const visits = p.visits.get(n.name) ?? 0;
    if (n.kind === 'router') {
      const visited = visits > 0;
      return h(
        'li',
        { class: `flow-router${visited ? ' visited' : ''}`, title: n.comment },
        h('span', { 'aria-hidden': 'true', class: 'diamond' }, visited ? '◆' : '◇'),
        h('span', { class: 'visually-hidden' }, `Route ${visited ? '(taken)' : '(not taken)'}: ${n.comment}`),
      );
    }
    const label =
      n.name === p.current && r.status === 'NEEDS_ATTENTION'
        ? { mark: '!', text: 'Current gate — needs attention' }
        : PROGRESS_LABEL[state];
    const isCurrent = state === 'current';
    return h(
      'li',
      {
        class: `flow-node ${state} kind-${n.kind}`,
        title: n.comment,
        'aria-current': isCurrent ? 'step' : undefined,
        'data-state': n.name,
      },
      h('span', { class: 'flow-name' }, n.label),
      h('span', { class: 'flow-kind' }, n.terminal ? 'Automatic · end' : KIND_LABEL[n.kind]),
      h(
        'span',
        { class: 'flow-progress' },
        h('span', { 'aria-hidden': 'true' }, `${label.mark} `),
        label.text,
        visits > 1 ? ` (${visits}×)` : '',
      ),
      isCurrent && r.breaches > 0 ? h('span', { class: 'flow-breach' }, `Timer passed ${r.breaches}×`) : null,
      isCurrent && r.firstSession?.retries
        ? h('span', { class: 'flow-breach' }, `Missed ${r.firstSession.retries}× — waiting for the next session`)
        : null,
      isCurrent && r.waitlist ? h('span', { class: 'flow-comment' }, `Waiting for a seat since ${dateTime(r.waitlist.since)}`) : null,
      isCurrent ? h('span', { class: 'flow-comment' }, n.comment) : null,
    );
  };

  const pathLabels = p.path
    .map((s) => graph.byName.get(s))
    .filter((n): n is FlowNode => !!n && n.kind !== 'router')
    .map((n) => n.label + (n.name === p.current ? ' (current)' : ''));

  return h(
    'section',
    { class: 'panel progress', 'aria-labelledby': 'progress-h' },
    h('h2', { id: 'progress-h' }, 'Workflow progress'),
    p.note ? h('p', { class: 'notice warn' }, h('span', { 'aria-hidden': 'true' }, '⚠ '), p.note) : null,
    h(
      'ol',
      { class: 'flow', 'aria-label': 'Workflow states in order' },
      graph.layers.map((layer) =>
        layer.length === 1 ? node(layer[0]!) : h('li', { class: 'flow-parallel' }, h('ul', null, layer.map(node))),
      ),
    ),
    h('p', { class: 'flow-path' }, h('strong', null, 'Path taken: '), pathLabels.length ? pathLabels.join(' → ') : 'not started yet'),
    h(
      'details',
      { class: 'flow-about' },
      h('summary', null, 'What each state does (from the workflow definition)'),
      h('p', null, graph.comment),
      h(
        'dl',
        null,
        [...graph.layers.flat(), ...graph.exceptional].map((n) => [
          h('dt', null, `${n.label} — ${KIND_LABEL[n.kind]}${graph.exceptional.includes(n) ? ' (timers and failures)' : ''}`),
          h('dd', null, n.comment || '—'),
        ]),
      ),
    ),
  );
}
