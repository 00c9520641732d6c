// An order's lifecycle, as a union of states and pure transitions.
//
//   pending -> submitted -> accepted -> partially-filled -> filled | cancelled | rejected | expired
//                  \-> unknown (timeout or transport error: resolved only by asking the venue by
//                               client order id, never by resending)
//
// Invariants: filled lots never decrease; a terminal order stays terminal (a late or duplicate
// report cannot revive it); a state that has no venue order id cannot claim a fill from the venue.
// Venue reports may arrive before the REST reply, after it, twice or out of order: each transition
// below is written so that any arrival order converges to the same state.

import { assertNever } from '../assert.ts';
import type { OrderReport, RejectCode } from '../events.ts';
import type { IntentId, OrderRole, VenueOrderId } from '../ids.ts';
import type { Amendment, OrderSpec, VenueOrderStatus } from '../types.ts';

export type OrderKey = string;

/**
 * Orders no live intent of ours explains: another client's (`external`), the venue executing a
 * position's own stop (`position-*`), or one of ours whose intent is gone (`orphan`: cancelled).
 */
export type ExternalRole = 'external' | 'orphan' | 'position-stop-loss' | 'position-take-profit' | 'position-trailing-stop';

type OrderBase = {
  /** Our client order id, or `ext:<venue order id>` for an order no intent of ours placed. */
  readonly key: OrderKey;
  readonly intentId: IntentId | null;
  /** What the order is for: one of ours, or not ours (a manual order, the venue closing a position by its own stop). */
  readonly role: OrderRole | ExternalRole;
  readonly spec: OrderSpec;
  /** Sum of the fills applied to this order (each execution id once). */
  readonly fillsLots: number;
  /** Cumulative filled quantity the venue last reported, which may run ahead of the fills. */
  readonly reportedFilledLots: number;
  /** Venue time of the last report applied; older reports are stale. */
  readonly venueUpdatedMs: number;
  readonly createdMs: number;
  /**
   * When we sent its create (null: not yet, or not ours to send: an order restored or adopted
   * from the venue). A snapshot asked for before then cannot list it.
   */
  readonly sentMs: number | null;
  /** We want this order gone (its intent ended, or it must not fill any more). */
  readonly cancelWanted: boolean;
  /** When our outstanding cancel was sent; null when none is outstanding. */
  readonly cancelRequestedMs: number | null;
  /** Cancels sent so far (bounded: a cancel that raced the create is sent again, a few times). */
  readonly cancelRequests: number;
  /**
   * Our amend sent and not yet settled (at most one per order: a second could land after a
   * newer one and undo it). `spec` stays what the venue confirmed until it is settled.
   */
  readonly amending: PendingAmend | null;
};

export type PendingAmend = {
  readonly commandId: number;
  readonly amendment: Amendment;
  readonly sentMs: number;
  /** The reply was lost: settled by asking the venue for the order (its fields say whether it landed). */
  readonly unknown: boolean;
};

export type TerminalStatus = 'filled' | 'cancelled' | 'rejected' | 'expired';

export type Order =
  | (OrderBase & { readonly status: 'pending' })
  | (OrderBase & { readonly status: 'submitted'; readonly submittedMs: number })
  | (OrderBase & { readonly status: 'accepted'; readonly venueOrderId: VenueOrderId })
  | (OrderBase & { readonly status: 'partially-filled'; readonly venueOrderId: VenueOrderId })
  | (OrderBase & { readonly status: 'unknown'; readonly venueOrderId: VenueOrderId | null; readonly sinceMs: number })
  | (OrderBase & { readonly status: 'filled' | 'cancelled' | 'expired'; readonly venueOrderId: VenueOrderId | null; readonly reason: string | null })
  | (OrderBase & { readonly status: 'rejected'; readonly venueOrderId: VenueOrderId | null; readonly reason: string | null; readonly code: RejectCode | null });

export type OrderStatus = Order['status'];

export function filledLots(order: Order): number {
  return Math.max(order.fillsLots, order.reportedFilledLots);
}

export function venueOrderIdOf(order: Order): VenueOrderId | null {
  return 'venueOrderId' in order ? order.venueOrderId : null;
}

export function isTerminal(order: Order): boolean {
  return order.status === 'filled' || order.status === 'cancelled' || order.status === 'rejected' || order.status === 'expired';
}

/** Sent and not known to be finished: the venue may act on it. */
export function isLive(order: Order): boolean {
  return order.status === 'submitted' || order.status === 'accepted' || order.status === 'partially-filled' || order.status === 'unknown';
}

/** The venue has confirmed it holds the order (it can trigger or fill). */
export function isAcknowledged(order: Order): boolean {
  return order.status === 'accepted' || order.status === 'partially-filled';
}

export type NewOrder = Pick<OrderBase, 'key' | 'intentId' | 'role' | 'spec' | 'createdMs'>;

export function newPendingOrder(base: NewOrder): Order {
  return { ...base, sentMs: null, fillsLots: 0, reportedFilledLots: 0, venueUpdatedMs: 0, cancelWanted: false, cancelRequestedMs: null, cancelRequests: 0, amending: null, status: 'pending' };
}

export function markCancelRequested(order: Order, atMs: number): Order {
  return { ...order, cancelWanted: true, cancelRequestedMs: atMs, cancelRequests: order.cancelRequests + 1 };
}

/** The outstanding cancel failed (it raced the create, or its reply was lost). */
export function clearCancelRequest(order: Order): Order {
  return order.cancelRequestedMs === null ? order : { ...order, cancelRequestedMs: null };
}

export function markSubmitted(order: Order, atMs: number): Order {
  return order.status === 'pending' ? { ...baseOf(order), sentMs: atMs, status: 'submitted', submittedMs: atMs } : order;
}

/** The REST reply of the create. The stream may already have told us more: never go back. */
export function onSubmitAcked(order: Order, venueOrderId: VenueOrderId): Order {
  switch (order.status) {
    case 'pending': // cannot happen for a command we sent; the step asserts before calling
    case 'submitted':
    case 'unknown':
      return { ...baseOf(order), status: 'accepted', venueOrderId };
    case 'accepted':
    case 'partially-filled':
      return order;
    case 'filled':
    case 'cancelled':
    case 'expired':
    case 'rejected': // a stream report finished the order before the REST reply arrived
      return order.venueOrderId === null ? { ...order, venueOrderId } : order;
    default:
      return assertNever(order);
  }
}

/** The create failed at the venue. Venue evidence that it exists wins over the reply. */
export function onSubmitRejected(order: Order, code: RejectCode, reason: string): Order {
  switch (order.status) {
    case 'pending':
    case 'submitted':
    case 'unknown':
      return { ...baseOf(order), status: 'rejected', venueOrderId: null, reason, code };
    case 'accepted':
    case 'partially-filled':
    case 'filled':
    case 'cancelled':
    case 'expired':
    case 'rejected':
      return order;
    default:
      return assertNever(order);
  }
}

/** A timeout or transport error: the venue may or may not have the order. */
export function onSubmitUnknown(order: Order, atMs: number): Order {
  return order.status === 'submitted' ? { ...baseOf(order), status: 'unknown', venueOrderId: null, sinceMs: atMs } : order;
}

/** The venue acknowledged our cancel: the order is cancelled with whatever it had filled. */
export function onCancelAcked(order: Order, reason: string): Order {
  if (isTerminal(order) || order.status === 'pending') return order;
  return { ...baseOf(order), status: 'cancelled', venueOrderId: venueOrderIdOf(order), reason };
}

/**
 * An order not ours that a snapshot no longer lists as open, when we never saw how it ended (a fill
 * came, its report did not): over, filled if its fills cover the size we know of.
 */
export function onNoLongerOpen(order: Order): Order {
  if (!isLive(order) || order.status === 'pending') return order;
  const venueOrderId = venueOrderIdOf(order);
  if (filledLots(order) >= order.spec.sizeLots && venueOrderId !== null) return { ...baseOf(order), status: 'filled', venueOrderId, reason: null };
  return { ...baseOf(order), status: 'cancelled', venueOrderId, reason: 'no longer open on the venue' };
}

/** A pending order that will never be sent (its entry ended before any fill). */
export function dropPending(order: Order, reason: string): Order {
  return order.status === 'pending' ? { ...baseOf(order), status: 'cancelled', venueOrderId: null, reason } : order;
}

const statusRank: Readonly<Record<VenueOrderStatus, number>> = {
  new: 1, untriggered: 1, 'partially-filled': 2, filled: 3, cancelled: 3, rejected: 3, expired: 3,
};

/**
 * A venue report (stream push, REST snapshot, or answer to a query). Reports are ordered by
 * venue update time and cumulative filled quantity; a stale one changes nothing.
 */
export function onReport(order: Order, report: OrderReport): Order {
  // A pending amend is settled by its reply, or by our query after a lost reply (engine/guard.ts),
  // never by a stream report: until then it counts as in flight, and nothing else is sent.
  const stale = report.venueUpdatedMs < order.venueUpdatedMs && report.filledLots <= order.reportedFilledLots;
  if (stale) return order;
  const reportedFilledLots = Math.max(order.reportedFilledLots, report.filledLots);
  const venueUpdatedMs = Math.max(order.venueUpdatedMs, report.venueUpdatedMs);
  // We concluded "never placed" after repeated not-found answers, and the venue now shows it.
  const revived = order.status === 'rejected' && order.venueOrderId === null;
  const behind = !revived && (isTerminal(order) || statusRank[report.status] < currentRank(order));
  if (behind) {
    // Terminal absorbs (a second `Filled` after a cancel race, a late `New`); the quantity still counts.
    return { ...order, reportedFilledLots, venueUpdatedMs };
  }
  return withVenueStatus({ ...baseOf(order), reportedFilledLots, venueUpdatedMs }, report.status, report.venueOrderId, report.reason);
}

/** One fill, already deduplicated by execution id. */
export function onFill(order: Order, lots: number, venueOrderId: VenueOrderId): Order {
  const base = { ...baseOf(order), fillsLots: order.fillsLots + lots };
  const filled = Math.max(base.fillsLots, base.reportedFilledLots);
  switch (order.status) {
    case 'filled':
    case 'cancelled': // real world possibility: a fill reported after the cancel confirmation
    case 'expired':
      return { ...order, ...base, status: order.status };
    case 'pending':
    case 'submitted': // the stream reported the fill before the REST reply arrived
    case 'unknown':
    case 'accepted':
    case 'partially-filled':
    case 'rejected': // we concluded "never placed" but the venue filled it: the venue is right
      return filled >= order.spec.sizeLots
        ? { ...base, status: 'filled', venueOrderId, reason: null }
        : { ...base, status: 'partially-filled', venueOrderId };
    default:
      return assertNever(order);
  }
}

function currentRank(order: Order): number {
  switch (order.status) {
    case 'pending':
    case 'submitted':
    case 'unknown':
      return 0;
    case 'accepted':
      return 1;
    case 'partially-filled':
      return 2;
    case 'filled':
    case 'cancelled':
    case 'rejected':
    case 'expired':
      return 3;
    default:
      return assertNever(order);
  }
}

function withVenueStatus(base: OrderBase, status: VenueOrderStatus, venueOrderId: VenueOrderId, reason: string | null): Order {
  const filled = Math.max(base.fillsLots, base.reportedFilledLots);
  switch (status) {
    case 'new':
    case 'untriggered':
      return filled > 0 ? { ...base, status: 'partially-filled', venueOrderId } : { ...base, status: 'accepted', venueOrderId };
    case 'partially-filled':
      return { ...base, status: 'partially-filled', venueOrderId };
    case 'filled':
    case 'cancelled':
    case 'expired':
      return { ...base, status, venueOrderId, reason };
    case 'rejected':
      return { ...base, status, venueOrderId, reason, code: null };
    default:
      return assertNever(status);
  }
}

function baseOf(order: Order): OrderBase {
  const { key, intentId, role, spec, fillsLots, reportedFilledLots, venueUpdatedMs, createdMs, sentMs, cancelWanted, cancelRequestedMs, cancelRequests, amending } = order;
  return { key, intentId, role, spec, fillsLots, reportedFilledLots, venueUpdatedMs, createdMs, sentMs, cancelWanted, cancelRequestedMs, cancelRequests, amending };
}

/** The spec with an amendment applied: what the venue holds once the amend landed. */
export function amendedSpec(spec: OrderSpec, amendment: Amendment): OrderSpec {
  const { type } = spec;
  const sized = amendment.sizeLots === undefined ? spec : { ...spec, sizeLots: amendment.sizeLots };
  if (type.kind === 'stop-market' && amendment.triggerTicks !== undefined) return { ...sized, type: { ...type, triggerTicks: amendment.triggerTicks } };
  if (type.kind === 'limit' && amendment.priceTicks !== undefined) return { ...sized, type: { ...type, priceTicks: amendment.priceTicks } };
  return sized;
}

export function markAmendSent(order: Order, commandId: number, amendment: Amendment, atMs: number): Order {
  return { ...order, amending: { commandId, amendment, sentMs: atMs, unknown: false } };
}

/** The venue confirmed our amend (its reply, or a report showing its fields): the spec is what it holds now. */
export function onAmendLanded(order: Order): Order {
  return order.amending === null ? order : { ...order, spec: amendedSpec(order.spec, order.amending.amendment), amending: null };
}

/** The amend did not happen (refused, or the venue shows the order without it). */
export function onAmendFailed(order: Order): Order {
  return order.amending === null ? order : { ...order, amending: null };
}

export function onAmendUnknown(order: Order): Order {
  return order.amending === null ? order : { ...order, amending: { ...order.amending, unknown: true } };
}

/** Whether a venue report shows every field the pending amend asked for. */
export function reportShowsAmend(amending: PendingAmend, report: OrderReport): boolean {
  const { triggerTicks, sizeLots, priceTicks } = amending.amendment;
  return (triggerTicks === undefined || report.triggerTicks === triggerTicks)
    && (sizeLots === undefined || report.sizeLots === sizeLots)
    && (priceTicks === undefined || report.priceTicks === priceTicks);
}
