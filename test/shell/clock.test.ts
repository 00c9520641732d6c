// The clock's held-up timers: a timer that fires well after its time (the process was frozen, its
// event loop blocked) gives way once to what waited in the sockets meanwhile.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import { describe, it } from 'node:test';
import { heldUpTimerMs, readsBeforeHeldUpTimers, RealClock } from '../../src/shell/clock.ts';
import type { Clock } from '../../src/shell/ports.ts';

/** A clock whose timers fire only when the test says, at the time it sets. */
class ManualClock implements Clock {
  now = 1_000;
  readonly timers: { readonly fireAtMs: number; readonly onFire: () => void }[] = [];

  nowMs(): number {
    return this.now;
  }

  schedule(fireAtMs: number, onFire: () => void): void {
    this.timers.push({ fireAtMs, onFire });
  }

  /** Fires the oldest timer at `atMs` (a late one models a process that could not run it on time). */
  fireNext(atMs: number): void {
    const timer = this.timers.shift();
    if (timer === undefined) throw new Error('no timer');
    this.now = atMs;
    timer.onFire();
  }
}

describe('readsBeforeHeldUpTimers', () => {
  it('fires a timer that is on time (or late by less than the tolerance) at once', () => {
    const clock = new ManualClock();
    const timers = readsBeforeHeldUpTimers(clock);
    const fired: number[] = [];
    timers.schedule(1_500, () => fired.push(clock.nowMs()));
    timers.schedule(1_500, () => fired.push(clock.nowMs()));
    clock.fireNext(1_500);
    clock.fireNext(1_500 + heldUpTimerMs - 1);
    assert.deepEqual(fired, [1_500, 1_500 + heldUpTimerMs - 1]);
    assert.equal(clock.timers.length, 0);
  });

  it('lets a held-up timer give way once: it fires again at once, after what was already waiting', () => {
    const clock = new ManualClock();
    const timers = readsBeforeHeldUpTimers(clock);
    const order: string[] = [];
    timers.schedule(1_500, () => order.push('deadline'));
    // The process froze from 1,100 to 9,000; a reply reached its socket at 1,400 and waits there.
    clock.schedule(9_000, () => order.push('reply read'));
    clock.fireNext(9_000);
    assert.deepEqual(order, [], 'the held-up deadline did not act');
    assert.deepEqual(clock.timers.map((timer) => timer.fireAtMs), [9_000, 9_000], 'the reply, then the deadline again, now');
    clock.fireNext(9_000);
    clock.fireNext(9_000);
    assert.deepEqual(order, ['reply read', 'deadline'], 'the reply was read before the deadline acted');
  });

  it('gives way only once, however late the second firing is', () => {
    const clock = new ManualClock();
    const timers = readsBeforeHeldUpTimers(clock);
    let fired = 0;
    timers.schedule(1_500, () => (fired += 1));
    clock.fireNext(5_000);
    clock.fireNext(9_000); // frozen again before the turn came
    assert.equal(fired, 1);
  });

  it('does not take a timer set for a time already past as held up (a deadline restored after a restart)', () => {
    const clock = new ManualClock();
    clock.now = 10_000;
    const timers = readsBeforeHeldUpTimers(clock);
    let fired = 0;
    timers.schedule(2_000, () => (fired += 1));
    clock.fireNext(10_000);
    assert.equal(fired, 1);
  });
});

describe('readsBeforeHeldUpTimers on the real clock', () => {
  /**
   * The event loop really blocked (as a frozen process is) while a socket's data arrives and a
   * timer falls due: which runs first when it moves again?
   */
  async function firstAfterBlock(wrap: boolean): Promise<readonly string[]> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await once(client, 'connect');
    const [peer] = await accepted;
    const order: string[] = [];
    const read = new Promise<void>((resolve) => client.once('data', () => {
      order.push('socket read');
      resolve();
    }));
    const real = new RealClock();
    const clock = wrap ? readsBeforeHeldUpTimers(real) : real;
    const fired = new Promise<void>((resolve) => clock.schedule(real.nowMs() + 20, () => {
      order.push('timer fired');
      resolve();
    }));
    peer.write('waiting');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, heldUpTimerMs + 200); // the process stands still
    await Promise.all([read, fired]);
    client.destroy();
    peer.destroy();
    server.close();
    real.stop();
    return order;
  }

  it('reads what waited in a socket before the held-up timer fires (and plain timers would not)', async () => {
    assert.deepEqual(await firstAfterBlock(false), ['timer fired', 'socket read'], 'what Node does by itself: the timers first');
    assert.deepEqual(await firstAfterBlock(true), ['socket read', 'timer fired']);
  });
});
