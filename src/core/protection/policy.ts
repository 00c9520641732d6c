// The hook every protection policy plugs into. The engine calls each policy for every open
// position on every event that concerns its symbol (fills, order and position reports, tickers),
// starting with the first event that shows the position: a policy never has to look a position up.
// Policies are pure: they see a view and return decisions; the engine turns decisions into orders.

import type { IntentId } from '../ids.ts';
import type { Side } from '../types.ts';

export type ProtectionStatus =
  | 'attached' // the venue armed the stop with the fill
  | 'stop-working' // our separate stop order is acknowledged by the venue
  | 'stop-in-flight' // the stop is sent and not yet acknowledged (bounded by the deadline)
  | 'exiting' // closing at market
  | 'unprotected'
  | 'watch-only';

export type PositionView = {
  readonly symbol: string;
  readonly intentId: IntentId;
  readonly origin: 'ours' | 'adopted';
  readonly side: Side;
  readonly sizeLots: number;
  readonly averageEntryTicks: number | null;
  readonly stopTicks: number;
  readonly protection: ProtectionStatus;
  readonly openedMs: number;
  readonly lastTicks: number | null;
  readonly markTicks: number | null;
};

export type PolicyDecision =
  | { readonly kind: 'exit'; readonly reason: string }
  | { readonly kind: 'notice'; readonly code: string; readonly text: string };

export type PositionPolicy = {
  readonly name: string;
  readonly evaluate: (view: PositionView, atMs: number) => readonly PolicyDecision[];
};
