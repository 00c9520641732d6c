// The gate on writes that must be observed: entries and take-profits go out only while the engine
// is trading, that is with the private stream up and reconciled since it came up. Protective
// orders (stops, exits, cancels) never pass through here: they always go out.

import type { Ctx } from './context.ts';

/** Why a write that must be observed cannot go out now, or null if it can. */
export function writeBlockedReason(ctx: Ctx): string | null {
  const { lifecycle, streams } = ctx.state;
  if (lifecycle.phase === 'trading') return null;
  if (streams.private === 'down') return `the private stream is down (phase ${lifecycle.phase}): the fills of a new order could not be seen`;
  return `not trading yet (phase ${lifecycle.phase}): waiting for the snapshot to be reconciled`;
}
