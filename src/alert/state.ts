/**
 * The per-series alert state machine: `step` takes a series' previous state, this interval's value
 * and the time, and returns the new state plus the transitions worth notifying. It is pure (the
 * caller injects the clock) and its state is plain JSON, so a state persisted across a restart
 * continues exactly where it left off.
 *
 * Conditions, per severity level (`raise`, `clear`, with clear on the safe side of raise):
 * - direction "above": raised when value >= raise, cleared when value < clear;
 *   direction "below": raised when value <= raise, cleared when value > clear.
 * - Hysteresis (`levelOf`): a series at severity S stays at S until S's clear condition is met; a
 *   value between clear and raise keeps the current level and never starts one. A series at critical
 *   whose critical level clears but whose warning level still holds maps to warning.
 *
 * Phases (inactive → pending → firing → inactive):
 * - Pending: the raise condition itself (not the hysteresis band) must hold continuously for `for`
 *   seconds, counted from `since`; the first evaluation where it does not sends the series back to
 *   inactive without any transition. When `for` has elapsed the series fires ("firing") at the level
 *   the value reaches at that moment: a series pending at warning that has reached critical fires
 *   once, at critical. `for` = 0 fires at the first evaluation.
 * - Clearing: once firing, when S's clear condition is met the alert keeps firing for
 *   `keepFiringFor` seconds (`clearingSince`). If the value returns meanwhile the timer is dropped and
 *   nothing is sent, so input flapping around a threshold gives one "firing" and no "resolved". After
 *   `keepFiringFor` of continuous clear condition: "resolved" (back to inactive) when no level holds,
 *   or "deescalated" to warning when S was critical and warning still holds. `keepFiringFor` = 0 acts
 *   on the first clear evaluation.
 * - Escalation: firing at warning, the critical raise condition must hold continuously for `for`
 *   (`escalatingSince`) before "escalated".
 * - Every transition carries kind, severity, at (= now), value and firingSince (when the alert
 *   started firing; kept through escalations). "escalated"/"deescalated" carry the previous severity
 *   in `previous`; "resolved" carries the severity that stopped firing in both fields.
 *
 * Missing data: a null value (no reading this interval; NaN and ±Infinity count as null) emits
 * nothing and changes nothing but `evaluatedAt`. Timers keep running from their start, so a gap does
 * not reset `for`, but nothing fires, escalates or resolves until a value arrives to confirm it.
 *
 * Time: a clock that went backwards (now < evaluatedAt) counts as zero elapsed time since the last
 * evaluation: the running timers (`since`, `clearingSince`, `escalatingSince`) are shifted by the
 * jump so they keep the time already accumulated and continue on the new clock. `firingSince` is a
 * record of when the alert began (Alertmanager's startsAt) and is not shifted. A jump forward cannot
 * be told from real time passing and counts in full.
 */
import type { Level, SeriesState, Severity, Transition, Trigger } from "./types.ts";

/** The result of one evaluation. */
export interface StepResult {
  state: SeriesState;
  transitions: Transition[];
}

const RANK: Record<Severity, number> = { warning: 1, critical: 2 };

function rank(severity: Severity | null): number {
  return severity === null ? 0 : RANK[severity];
}

function raised(trigger: Trigger, level: Level, value: number): boolean {
  return trigger.direction === "above" ? value >= level.raise : value <= level.raise;
}

function cleared(trigger: Trigger, level: Level, value: number): boolean {
  return trigger.direction === "above" ? value < level.clear : value > level.clear;
}

/**
 * The severity `value` maps to for a series currently at `current`, with hysteresis: a level is
 * entered at its raise threshold and left only at its clear threshold.
 */
export function levelOf(
  trigger: Trigger,
  value: number,
  current: Severity | null,
): Severity | null {
  const { critical, warning } = trigger;
  if (
    critical &&
    (raised(trigger, critical, value) ||
      (current === "critical" && !cleared(trigger, critical, value)))
  ) {
    return "critical";
  }
  // Any current severity means the series is at least at warning: critical implies warning.
  if (
    warning &&
    (raised(trigger, warning, value) || (current !== null && !cleared(trigger, warning, value)))
  ) {
    return "warning";
  }
  return null;
}

/** Evaluates one series once: `value` is this interval's reading, `now` epoch ms. */
export function step(
  trigger: Trigger,
  prev: SeriesState | undefined,
  value: number | null,
  now: number,
): StepResult {
  const v = value !== null && Number.isFinite(value) ? value : null;
  const state = prev === undefined ? inactive(null, now) : rebased(prev, now);
  if (v === null) return quiet(copyAt(state, now));
  if (state.phase === "firing" && state.severity !== null) {
    return stepFiring(trigger, state, state.severity, v, now);
  }
  return stepQuiet(trigger, state, v, now);
}

/** Inactive or pending: wait for the raise condition to hold `for` seconds. */
function stepQuiet(trigger: Trigger, state: SeriesState, v: number, now: number): StepResult {
  const level = levelOf(trigger, v, null);
  if (level === null) return quiet(inactive(v, now));
  const since = state.phase === "pending" && state.since !== undefined ? state.since : now;
  if (!held(since, now, trigger.for)) {
    return quiet({ phase: "pending", severity: level, since, lastValue: v, evaluatedAt: now });
  }
  return {
    state: firing(level, now, v, now),
    transitions: [{ kind: "firing", severity: level, at: now, value: v, firingSince: now }],
  };
}

/** Firing at `current`: escalate, clear (de-escalate or resolve) or stay. */
function stepFiring(
  trigger: Trigger,
  state: SeriesState,
  current: Severity,
  v: number,
  now: number,
): StepResult {
  const level = levelOf(trigger, v, current);
  const firingSince = state.firingSince ?? now;
  const transition = (kind: Transition["kind"], severity: Severity): Transition => ({
    kind,
    severity,
    previous: current,
    at: now,
    value: v,
    firingSince,
  });

  if (rank(level) > rank(current)) {
    const escalatingSince = state.escalatingSince ?? now;
    if (!held(escalatingSince, now, trigger.for)) {
      return quiet(firing(current, firingSince, v, now, { escalatingSince }));
    }
    const to = level as Severity;
    return { state: firing(to, firingSince, v, now), transitions: [transition("escalated", to)] };
  }

  if (rank(level) < rank(current)) {
    const clearingSince = state.clearingSince ?? now;
    if (!held(clearingSince, now, trigger.keepFiringFor)) {
      return quiet(firing(current, firingSince, v, now, { clearingSince }));
    }
    if (level === null) {
      return { state: inactive(v, now), transitions: [transition("resolved", current)] };
    }
    return {
      state: firing(level, firingSince, v, now),
      transitions: [transition("deescalated", level)],
    };
  }

  // Still at its level: a returning value drops any clearing or escalation timer.
  return quiet(firing(current, firingSince, v, now));
}

/** True when a condition that began at `start` (epoch ms) has held for `seconds` at `now`. */
function held(start: number, now: number, seconds: number): boolean {
  return now - start >= seconds * 1000;
}

function quiet(state: SeriesState): StepResult {
  return { state, transitions: [] };
}

function inactive(lastValue: number | null, now: number): SeriesState {
  return { phase: "inactive", severity: null, lastValue, evaluatedAt: now };
}

function firing(
  severity: Severity,
  firingSince: number,
  lastValue: number,
  now: number,
  timers: { clearingSince?: number; escalatingSince?: number } = {},
): SeriesState {
  const state: SeriesState = {
    phase: "firing",
    severity,
    firingSince,
    lastValue,
    evaluatedAt: now,
  };
  // Only set keys go in, so the state survives a JSON round trip unchanged.
  if (timers.clearingSince !== undefined) state.clearingSince = timers.clearingSince;
  if (timers.escalatingSince !== undefined) state.escalatingSince = timers.escalatingSince;
  return state;
}

/** A fresh copy of `state` evaluated at `now`, with only the keys that are set. */
function copyAt(state: SeriesState, now: number): SeriesState {
  const copy: SeriesState = { ...state, evaluatedAt: now };
  for (const key of ["since", "firingSince", "clearingSince", "escalatingSince"] as const) {
    if (copy[key] === undefined) delete copy[key];
  }
  return copy;
}

/** `prev` with its running timers shifted by a backward clock jump (see the module comment). */
function rebased(prev: SeriesState, now: number): SeriesState {
  const jump = now - prev.evaluatedAt;
  if (!(jump < 0)) return prev;
  const shift = (t: number | undefined) => t === undefined ? undefined : t + jump;
  return {
    ...prev,
    since: shift(prev.since),
    clearingSince: shift(prev.clearingSince),
    escalatingSince: shift(prev.escalatingSince),
  };
}
