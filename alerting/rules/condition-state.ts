// The timing core every rule shares: a condition must hold for `forMs` before the alert fires, and
// the clear condition must hold for `clearForMs` before it resolves. Two conditions (fire at 70 °C,
// clear below 65 °C) plus clearFor are the hysteresis that keeps a flapping value from flapping the
// alert. Pure: (state, inputs, now) -> state and at most one transition.

export type Phase = 'ok' | 'pending' | 'firing' | 'clearing';

export interface ConditionState {
  phase: Phase;
  /** When the current phase began (ms). */
  since: number;
  /** Value that made it fire or last kept it firing, for the summary. */
  value: number | undefined;
}

export interface Timing {
  forMs: number;
  clearForMs: number;
}

export type Transition = 'firing' | 'resolved' | undefined;

export const OK: ConditionState = Object.freeze({ phase: 'ok', since: 0, value: undefined }) as ConditionState;

export interface StepResult {
  state: ConditionState;
  transition: Transition;
}

// Reused for every call (this runs for every rule on every message): read it before the next call.
const res: StepResult = { state: OK, transition: undefined };
const out = (state: ConditionState, transition: Transition): StepResult => {
  res.state = state;
  res.transition = transition;
  return res;
};

/**
 * `breached`: the fire condition holds now. `cleared`: the clear condition holds now (for a
 * two-level rule, breached and cleared can both be false: the value sits between the levels).
 * Returns the new state (the same object when nothing changed) and the transition, if any.
 */
export function step(s: ConditionState, breached: boolean, cleared: boolean, value: number | undefined, t: Timing, now: number): StepResult {
  switch (s.phase) {
    case 'ok':
      if (!breached) return out(s, undefined);
      if (t.forMs <= 0) return out({ phase: 'firing', since: now, value }, 'firing');
      return out({ phase: 'pending', since: now, value }, undefined);
    case 'pending':
      if (!breached) return out(OK, undefined);
      if (now - s.since >= t.forMs) return out({ phase: 'firing', since: now, value }, 'firing');
      return out(s, undefined);
    case 'firing':
      if (!cleared) {
        if (breached) s.value = value;
        return out(s, undefined);
      }
      if (t.clearForMs <= 0) return out(OK, 'resolved');
      return out({ phase: 'clearing', since: now, value: s.value }, undefined);
    case 'clearing':
      if (!cleared) return out({ phase: 'firing', since: s.since, value: breached ? value : s.value }, undefined);
      if (now - s.since >= t.clearForMs) return out(OK, 'resolved');
      return out(s, undefined);
  }
}

/** When this state next needs a look even without new input (a `for` or `clearFor` running out). */
export function wakeAt(s: ConditionState, t: Timing): number | undefined {
  if (s.phase === 'pending') return s.since + t.forMs;
  if (s.phase === 'clearing') return s.since + t.clearForMs;
  return undefined;
}
