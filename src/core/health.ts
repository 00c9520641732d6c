// The engine's health in a few fields, for the operator: where the lifecycle is and since when,
// which streams are up, the last reconciliation and what reconciliations have found (all should
// stay at zero), and whether anything needs a human.

import { isActive } from './intent/intent.ts';
import { formatE8 } from './money.ts';
import type { EngineState, ReconcileCounts } from './state.ts';

export type Health = {
  readonly phase: EngineState['lifecycle']['phase'];
  readonly phaseSinceMs: number | null;
  readonly streams: EngineState['streams'];
  readonly activeIntents: number;
  readonly reconciliations: number;
  /** Drift found and healed since the start, by class (every class should stay at zero). */
  readonly drift: Readonly<Omit<ReconcileCounts, 'runs'>>;
  readonly anomalies: number;
  readonly protectiveExits: number;
  /** The settlement coin's balance and equity as last reported by the venue; null before any report. */
  readonly wallet: { readonly coin: string; readonly balanceE8: number; readonly equityE8: number } | null;
};

export function healthOf(state: EngineState): Health {
  const { lifecycle, reconcile, counters } = state;
  const { runs, ...drift } = reconcile;
  return {
    phase: lifecycle.phase,
    phaseSinceMs: lifecycle.phase === 'loading' ? null : lifecycle.sinceMs,
    streams: { ...state.streams },
    activeIntents: [...state.intents.values()].filter(isActive).length,
    reconciliations: runs,
    drift,
    anomalies: counters.anomalies,
    protectiveExits: counters.protectiveExits,
    wallet: state.wallet === null ? null : { coin: state.wallet.coin, balanceE8: state.wallet.walletBalanceE8, equityE8: state.wallet.equityE8 },
  };
}

export function describeHealth(health: Health): string {
  const drift = Object.entries(health.drift).filter(([, count]) => count > 0).map(([name, count]) => `${name} ${count}`);
  const wallet = health.wallet === null ? 'wallet not reported yet' : `wallet ${formatE8(health.wallet.balanceE8)} ${health.wallet.coin} (equity ${formatE8(health.wallet.equityE8)})`;
  return `phase ${health.phase}, private stream ${health.streams.private}, public stream ${health.streams.public}, ${wallet}, ` +
    `${health.activeIntents} active intent(s), ${health.reconciliations} reconciliation(s), drift healed: ${drift.length === 0 ? 'none' : drift.join(', ')}`;
}
