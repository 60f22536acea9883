/** Types for the parts of figures.js that bench/test uses. */
export interface Row {
  metric: string;
  ours: number | boolean | string | undefined;
  baseline: number | boolean | string | undefined;
  ratio: number | undefined;
  goal: string;
  pass: boolean | null;
  /** A goal on a ratio of times: a quick run shows it without judging it. */
  timing?: boolean;
  /** Quick runs: whether a timing goal's ratio was within its goal that time (it is not judged). */
  withinGoal?: boolean;
}

export interface RefreshSide {
  refreshCalls: number;
  refreshCallsMin: number;
  refreshCallsMax: number;
  wallMs: number;
  failedCallers: number;
  failures: Record<string, number>;
  distinctTokens: number;
  stillSignedIn: boolean;
}

export interface RefreshSummary {
  callers: number;
  rounds: number;
  ours: RefreshSide;
  baseline: RefreshSide;
  processes?: number;
  callersPerProcess?: number;
  oursWithoutLock?: { refreshCalls: number; failedCallers: number };
}

export interface Figure<Summary = unknown> {
  id: string;
  number: number;
  title: string;
  baseline: string;
  settings: { full: Record<string, number>; quick: Record<string, number> };
  run(settings: Record<string, number>): Promise<Summary>;
  rows(summary: Summary): Row[];
}

export const FIGURES: Figure[];
export function failuresText(failures: Record<string, number>): string;

/** A quick run's rows: timing goals shown with `(full run)` and `pass: null`; other rows unchanged. */
export function judge(rows: Row[], mode: 'quick' | 'full'): Row[];
