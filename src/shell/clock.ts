// The real clock: wall time (Date.now) and timers on setTimeout, for the bot as a live process. The
// simulation's virtual clock is src/sim/scheduler.ts; both implement the Clock port.
//
// Invariants: a timer fires once, never before its time (Node may wake a timer a millisecond
// early, and caps delays at about 24.8 days: such a timer waits again for the rest); after each
// timer the `afterFire` hook runs (the bot drains its runtime's inbox there, as the simulated
// world does after every scheduled item); after `stop` no timer fires and none can be scheduled.

import type { Clock } from './ports.ts';

/** Node's setTimeout takes at most a signed 32-bit number of milliseconds. */
const timerDelayMsMax = 2 ** 31 - 1;

export class RealClock implements Clock {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly afterFire: () => void;
  private stopped = false;

  constructor(options: { readonly afterFire?: () => void } = {}) {
    this.afterFire = options.afterFire ?? (() => undefined);
  }

  nowMs(): number {
    return Date.now();
  }

  schedule(fireAtMs: number, onFire: () => void): void {
    if (this.stopped) return;
    const delayMs = Math.min(timerDelayMsMax, Math.max(0, fireAtMs - Date.now()));
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (Date.now() < fireAtMs) {
        this.schedule(fireAtMs, onFire); // woken early, or the delay was capped: wait for the rest
        return;
      }
      onFire();
      this.afterFire();
    }, delayMs);
    this.timers.add(timer);
  }

  /** Cancels every pending timer for good (shutdown): the process can then exit. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  get pending(): number {
    return this.timers.size;
  }
}

/**
 * How much later than promised a timer may fire before it is taken as held up: the process was
 * frozen, or its event loop blocked. (A timer in a healthy Node process is late by a few ms.)
 */
export const heldUpTimerMs = 250;

/**
 * The clock's timers, except that one held up past `heldUpTimerMs` gives way once: it fires again
 * at once, after what has waited meanwhile in the process's sockets is read (on Node, the next
 * turn of the event loop, whose poll reads them). What waited there is older than the timer's
 * firing: without this, a process frozen through a stop's deadline closes the position at market
 * with the stop's acknowledgement unread in its socket, and the stream heartbeat drops connections
 * as silent whose messages wait unread.
 */
export function readsBeforeHeldUpTimers(clock: Clock): Clock {
  return {
    nowMs: () => clock.nowMs(),
    schedule: (fireAtMs, onFire) => {
      const dueMs = Math.max(fireAtMs, clock.nowMs());
      clock.schedule(fireAtMs, () => {
        if (clock.nowMs() - dueMs < heldUpTimerMs) {
          onFire();
          return;
        }
        clock.schedule(clock.nowMs(), onFire);
      });
    },
  };
}
