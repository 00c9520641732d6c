// Intents: what the engine wants for one symbol, from the moment it decides until the position
// it caused is flat again. An `open` intent comes from an open request; an `adopted` intent is
// created for a position no intent explains (a manual order, another bot), so that the same
// protection applies to it. At most one intent per symbol is active (phase other than `done`).
//
//   entering -> open -> exiting -> done       (entering -> done when the entry ends unfilled)
//
// Invariants: every order id an intent will use exists in state before any command is emitted;
// an intent sends at most one entry order, ever.

import type { IntentId } from '../ids.ts';
import type { PositionStopChange } from '../commands.ts';
import type { OrderKey } from '../order/order.ts';
import type { IntentPlan } from '../protection/plan.ts';
import type { Side, Trigger } from '../types.ts';

/** How the stop of an intent reaches the venue. */
export type ProtectionMode =
  | 'attached' // sent with the entry; the venue arms it at the instant of the fill
  | 'separate' // sent on the first evidence of a fill; market exit if not acknowledged in time
  | 'watch'; // adopted positions the configuration says only to watch

export type IntentPhase =
  | { readonly name: 'entering' }
  | { readonly name: 'open'; readonly sinceMs: number }
  | { readonly name: 'exiting'; readonly reason: string; readonly sinceMs: number }
  | { readonly name: 'done'; readonly reason: string; readonly atMs: number };

export type Intent = {
  readonly id: IntentId;
  /**
   * The prefix of the client order ids this intent sends from now on: its id, except for a restored
   * intent, whose earlier orders may have used any attempt number under its id; it sends new
   * orders under a fresh one so no id is ever reused.
   */
  readonly orderIdBase: IntentId;
  /** `open`: from a request; `adopted`: a position nobody of ours opened; `restored`: ours, rebuilt from the venue. */
  readonly kind: 'open' | 'adopted' | 'restored';
  readonly requestId: string | null;
  readonly symbol: string;
  /** The side of the entry: buy opens a long, sell a short. */
  readonly side: Side;
  readonly sizeLots: number;
  readonly stopLoss: Trigger;
  readonly takeProfitTicks: number | null;
  readonly protection: ProtectionMode;
  readonly entryOrder: OrderKey | null;
  /** The newest stop; a larger one replaces it when the position grows beyond what it covers. */
  readonly stopOrder: OrderKey | null;
  readonly stopAttempts: number;
  /** Earlier stops, cancelled once the newest one is working (never before: no gap in cover). */
  readonly replacedStops: readonly OrderKey[];
  /** The take-profit limit orders: one, or a ladder's rungs in order (tp, tp2, tp3, ...). */
  readonly takeProfitOrders: readonly OrderKey[];
  /** Ladder, breakeven, trailing and aged-position plan, resolved to ticks and lots. */
  readonly plan: IntentPlan;
  /** What the protection policies remember between events (see Guard). */
  readonly guard: Guard;
  readonly exitOrder: OrderKey | null;
  /** Exit orders sent (each one's client order id counts them). */
  readonly exitAttempts: number;
  /**
   * Of those, the ones that filled in full with a position left: one part of a position larger
   * than the venue takes in one market order, or one outgrown by a fill. Progress, not failures:
   * the exit's alarm and its retry pauses count only the rest.
   */
  readonly exitsFilled: number;
  /** Set once the venue has shown a non-zero position for this intent. */
  readonly positionSeenMs: number | null;
  /** When the venue first confirmed a stop covering the position (its report, or our stop's ack). */
  readonly stopConfirmedMs: number | null;
  /** Set when the position was seen flat again while the entry could still fill. */
  readonly flatSinceMs: number | null;
  readonly phase: IntentPhase;
  readonly createdMs: number;
};

/**
 * The protection policies' memory for one position. The stop level the engine wants is the
 * intent's `stopLoss.triggerTicks`: it only ever tightens. Getting the venue's stop there is one
 * change at a time (an amend of our stop order, or the position's own stop), rate-limited.
 */
export type Guard = {
  readonly breakevenDone: boolean;
  /**
   * The trailing's rate limit: no change of the venue's stop before this (the last one sent plus
   * the plan's amendEveryMs); 0 for any time. Kept as the time it ends so that a ticker, which
   * asks on every price, need not read the plan.
   */
  readonly nextStopChangeMs: number;
  /** No change of the stop before this (after a refusal: backing off); 0 for none. */
  readonly stopRetryAtMs: number;
  readonly stopChangeFailures: number;
  /** Attached mode: the position stop the venue last acknowledged from us (its reports may lag). */
  readonly ackedStopTicks: number | null;
  /** A change of the position's own stop (attached mode) sent and not yet answered. */
  readonly positionStop: PositionStopInFlight | null;
  /**
   * The venue's trailing stop (attached stops): not asked yet, asked, set (by us in venue mode, or
   * found on the position: then the venue owns the level and the bot does not trail), or refused
   * (bot-managed then).
   */
  readonly venueTrailing: 'none' | 'sent' | 'set' | 'refused';
  /** The aged position's reduce-only limit exit, its price, and when its price last moved. */
  readonly agedExitOrder: OrderKey | null;
  readonly agedExitAttempts: number;
  readonly agedExitTicks: number | null;
  readonly agedSteppedMs: number | null;
  /** The review timer armed for the policies (time-driven steps, coalesced stop changes); null if none. */
  readonly reviewAtMs: number | null;
};

export type PositionStopInFlight = {
  readonly commandId: number;
  readonly change: PositionStopChange;
  readonly sentMs: number;
  /** Set when the outcome is unknown: settled by the next snapshot asked for after this time. */
  readonly unknownSinceMs: number | null;
};

export const freshGuard: Guard = {
  breakevenDone: false, nextStopChangeMs: 0, stopRetryAtMs: 0, stopChangeFailures: 0, ackedStopTicks: null, positionStop: null,
  venueTrailing: 'none', agedExitOrder: null, agedExitAttempts: 0, agedExitTicks: null, agedSteppedMs: null, reviewAtMs: null,
};

export function isActive(intent: Intent): boolean {
  return intent.phase.name !== 'done';
}

/** The bot moves the stop itself: bot mode, or venue mode the venue refused (or cannot do: separate stops). */
export function botTrails(intent: Intent): boolean {
  const { trailing } = intent.plan;
  if (trailing === null) return false;
  const { venueTrailing } = intent.guard;
  if (venueTrailing === 'sent' || venueTrailing === 'set') return false;
  return trailing.mode === 'bot' || intent.protection !== 'attached' || venueTrailing === 'refused';
}
