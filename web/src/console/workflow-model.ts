import aslJson from '../../../statemachines/referral.asl.json' with { type: 'json' };
import { FINAL_STATUSES, STATE_FOR_STATUS, type ReferralDetail, type Status } from '../../../functions/lib/schemas/views';
import { GATE_OF_STEP } from '../../../functions/lib/domain/workflow';

// the workflow progress model, derived from THE state machine definition (esbuild inlines the one
// JSON file at build time; no second copy of the states exists in the console). Nothing here knows
// state names except through STATE_FOR_STATUS, which the contracts own.

interface AslState {
  Type: string;
  Comment?: string;
  Resource?: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: Array<{ Next: string }>;
  Catch?: Array<{ Next: string }>;
}

export interface AslDefinition {
  Comment?: string;
  StartAt: string;
  States: Record<string, AslState>;
}

type NodeKind = 'automatic' | 'gate' | 'router' | 'pass' | 'end';

export interface FlowNode {
  name: string;
  label: string;
  kind: NodeKind;
  comment: string;
  /** ends the execution (End: true, Succeed, Fail) */
  terminal: boolean;
  /** longest distance from StartAt along normal transitions (back edges ignored) */
  layer: number;
}

export interface WorkflowGraph {
  comment: string;
  startAt: string;
  /** normal path states, grouped by layer, in order */
  layers: FlowNode[][];
  /** states reached only through Catch or a Choice Default (timers, failures) */
  exceptional: FlowNode[];
  byName: Map<string, FlowNode>;
  /** normal successors of each state (Next and Choice branches) */
  successors: Map<string, string[]>;
}

const asl = aslJson as unknown as AslDefinition;

/** "InsuranceReview" → "Insurance review" */
const humanize = (name: string): string => {
  const s = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return s.charAt(0).toUpperCase() + s.slice(1);
};

const kindOf = (s: AslState): NodeKind => {
  if (s.Type === 'Choice') return 'router';
  if (s.Type === 'Task') return s.Resource?.includes('.waitForTaskToken') ? 'gate' : 'automatic';
  if (s.Type === 'Succeed' || s.Type === 'Fail') return 'end';
  return 'pass';
};

/** lays out the state machine: main lane by longest path, exception states apart */
function buildGraph(def: AslDefinition): WorkflowGraph {
  const names = Object.keys(def.States);
  const successors = new Map<string, string[]>();
  for (const name of names) {
    const s = def.States[name]!;
    const next = [...(s.Choices?.map((c) => c.Next) ?? []), ...(s.Next ? [s.Next] : [])];
    successors.set(name, [...new Set(next)]);
  }

  // reachable from StartAt through normal transitions only (no Catch, no Choice Default)
  const main = new Set<string>();
  const stack = [def.StartAt];
  while (stack.length) {
    const n = stack.pop()!;
    if (main.has(n) || !def.States[n]) continue;
    main.add(n);
    stack.push(...(successors.get(n) ?? []));
  }

  // longest-path layering over the DAG left after dropping DFS back edges (e.g. Detox ↺ Detox)
  const layer = new Map<string, number>();
  const order: string[] = [];
  const onStack = new Set<string>();
  const seen = new Set<string>();
  const back = new Set<string>();
  const visit = (n: string): void => {
    seen.add(n);
    onStack.add(n);
    for (const m of successors.get(n) ?? []) {
      if (!main.has(m)) continue;
      if (onStack.has(m)) back.add(`${n}>${m}`);
      else if (!seen.has(m)) visit(m);
    }
    onStack.delete(n);
    order.unshift(n); // reverse post-order = topological order of the DAG
  };
  visit(def.StartAt);
  for (const n of order) {
    if (!layer.has(n)) layer.set(n, 0);
    for (const m of successors.get(n) ?? []) {
      if (!main.has(m) || back.has(`${n}>${m}`)) continue;
      layer.set(m, Math.max(layer.get(m) ?? 0, layer.get(n)! + 1));
    }
  }

  const byName = new Map<string, FlowNode>();
  for (const name of names) {
    const s = def.States[name]!;
    byName.set(name, {
      name,
      label: humanize(name),
      kind: kindOf(s),
      comment: s.Comment ?? '',
      terminal: !!s.End || s.Type === 'Succeed' || s.Type === 'Fail',
      layer: layer.get(name) ?? -1,
    });
  }
  const layers: FlowNode[][] = [];
  for (const n of order) {
    const node = byName.get(n)!;
    (layers[node.layer] ??= []).push(node);
  }
  return {
    comment: def.Comment ?? '',
    startAt: def.StartAt,
    layers: layers.filter(Boolean),
    exceptional: names.filter((n) => !main.has(n)).map((n) => byName.get(n)!),
    byName,
    successors,
  };
}

export type Progress = 'done' | 'current' | 'skipped' | 'ahead' | 'stopped' | 'final';

export interface ProgressModel {
  /** states visited in order (consecutive repeats collapsed), routers included */
  path: string[];
  visits: Map<string, number>;
  state: Map<string, Progress>;
  current?: string;
  /** why the flow is not simply at `current` (withdrawn, needs attention) */
  note?: string;
}

type Events = Pick<ReferralDetail, 'events' | 'status' | 'pendingStep'>;

/** the path a referral took, from its STATUS_CHANGED events mapped through STATE_FOR_STATUS */
export function progressOf(g: WorkflowGraph, r: Events): ProgressModel {
  const changes = r.events
    .filter((e) => e.type === 'STATUS_CHANGED' && e.to)
    .sort((a, b) => a.at.localeCompare(b.at))
    .map((e) => STATE_FOR_STATUS[e.to as Status])
    .filter((s): s is string => !!s && g.byName.has(s));

  const states: string[] = [];
  // every execution starts at StartAt; the first status change may already be past it
  if (r.status !== 'RECEIVED' || changes.length) states.push(g.startAt);
  for (const s of changes) if (states[states.length - 1] !== s || g.byName.get(s)?.kind === 'gate') states.push(s);

  // fill in the router between two consecutive states when one leads there
  const path: string[] = [];
  states.forEach((s, i) => {
    if (i > 0) {
      const prev = states[i - 1]!;
      if (prev === s && g.byName.get(s)?.kind !== 'gate') return;
      const direct = g.successors.get(prev)?.includes(s);
      const router = (g.successors.get(prev) ?? []).find((m) => g.byName.get(m)?.kind === 'router' && g.successors.get(m)?.includes(s));
      if (!direct && router) path.push(router);
    }
    path.push(s);
  });

  const visits = new Map<string, number>();
  for (const s of path) visits.set(s, (visits.get(s) ?? 0) + 1);

  const isFinal = FINAL_STATUSES.includes(r.status);
  let current: string | undefined;
  let note: string | undefined;
  if (r.status === 'NEEDS_ATTENTION') {
    const step = r.pendingStep ? STATE_FOR_STATUS[GATE_OF_STEP[r.pendingStep]] : undefined;
    current = step;
    note = step
      ? 'Needs attention: this gate passed its timer twice and is still open for a decision.'
      : 'Needs attention: a workflow task failed after its retries.';
  } else if (r.status === 'WITHDRAWN') {
    note = 'Withdrawn: the workflow was stopped.';
  } else if (r.status === 'NO_SHOW') {
    note = 'Closed as a no-show: the person did not come to the first session; the seat was given back.';
  } else if (!isFinal) {
    current = STATE_FOR_STATUS[r.status];
  }

  const state = new Map<string, Progress>();
  const last = path[path.length - 1];
  const reachedLayer = Math.max(-1, ...path.map((s) => g.byName.get(s)?.layer ?? -1), current ? (g.byName.get(current)?.layer ?? -1) : -1);
  for (const layer of g.layers) {
    for (const n of layer) {
      if (n.name === current) state.set(n.name, 'current');
      else if (isFinal && n.name === last && n.terminal) state.set(n.name, 'final');
      else if (r.status === 'WITHDRAWN' && n.name === last) state.set(n.name, 'stopped');
      else if (visits.has(n.name)) state.set(n.name, 'done');
      else if (n.layer < reachedLayer || (isFinal && r.status !== 'WITHDRAWN')) state.set(n.name, 'skipped');
      else state.set(n.name, 'ahead');
    }
  }
  return { path, visits, state, current, note };
}

export const graph = buildGraph(asl);
