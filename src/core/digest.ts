// A canonical digest of the engine's trading state: positions (ledger and venue view), orders
// (status and quantities), fills seen, and intents (phase). Receive times and counters are left
// out, so two runs that applied the same venue facts in different orders can be compared, and a
// journal replay can be checked against the state it should rebuild.

import type { EngineState } from './state.ts';
import { filledLots } from './order/order.ts';

export function stateDigest(state: EngineState): string {
  const positions = sortedEntries(state.positions).map(([key, p]) => [
    key, p.sizeLots, p.costTicksLots, p.realizedPnlE8, p.feesE8, p.fundingE8, p.fillCount,
    p.venue === null ? null : [p.venue.sizeLots, p.venue.stopLossTicks, p.venue.takeProfitTicks, p.venue.seq, p.venue.venueUpdatedMs],
  ]);
  const orders = sortedEntries(state.orders).map(([key, o]) => [
    key, o.status, filledLots(o), o.fillsLots, 'venueOrderId' in o ? o.venueOrderId : null, o.spec.sizeLots,
  ]);
  const intents = sortedEntries(state.intents).map(([key, i]) => [key, i.phase.name, i.protection, i.stopOrder, i.exitOrder]);
  const fills = [...state.fillIds.keys()].sort();
  return JSON.stringify({ positions, orders, intents, fills });
}

function sortedEntries<V>(map: { entries(): Iterable<[string, V]> }): [string, V][] {
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** FNV-1a of the digest: a short fingerprint for logs and reproducibility checks. */
export function stateHash(state: EngineState): string {
  const digest = stateDigest(state);
  let hash = 0x811c9dc5;
  for (let i = 0; i < digest.length; i += 1) {
    hash ^= digest.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}
