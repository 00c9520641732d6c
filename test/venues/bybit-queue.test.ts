// The Bybit adapter's request queue on the simulated clock: each endpoint within its own limit per
// rolling second, so that moving working stops never delays a new stop; by priority within an
// endpoint; a request refused for its rate back at the head of its lane after a growing pause.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Scheduler } from '../../src/sim/scheduler.ts';
import type { Endpoint, Priority, Queued } from '../../src/venues/bybit/queue.ts';
import { limitsPerSecond, RequestQueue } from '../../src/venues/bybit/queue.ts';

const startMs = 1_000_000;

type SetUp = {
  clock: Scheduler;
  queue: RequestQueue;
  sent: { name: string; atMs: number }[];
  push: (name: string, endpoint: Endpoint, priority: Priority) => Queued;
  log: string[];
  /** What the queue reported waiting for its own limits: endpoint and ms, per request that waited. */
  waits: [string, number][];
};

function setUp(): SetUp {
  const clock = new Scheduler(startMs);
  const log: string[] = [];
  const waits: [string, number][] = [];
  const queue = new RequestQueue({ clock, log: (line) => log.push(line), onQueueWait: (endpoint, waitedMs) => waits.push([endpoint, waitedMs]) });
  const sent: { name: string; atMs: number }[] = [];
  const push = (name: string, endpoint: Endpoint, priority: Priority): Queued => {
    const item: Queued = { endpoint, priority, attempts: 0, run: () => { sent.push({ name, atMs: clock.nowMs() - startMs }); return Promise.resolve(); } };
    queue.push(item);
    return item;
  };
  return { clock, queue, sent, push, log, waits };
}

function runAll(clock: Scheduler): void {
  while (clock.runNext());
}

void describe('bybit request queue', () => {
  void it('keeps each endpoint within its own limit a second: a burst of stop moves holds back neither a new stop nor a position stop', () => {
    const { clock, queue, sent, push, waits } = setUp();
    const amends = limitsPerSecond.amend * 3;
    for (let index = 0; index < amends; index += 1) push(`amend ${index}`, 'amend', 0);
    push('stop', 'create', 0);
    push('trading-stop', 'trading-stop', 0);
    assert.deepEqual(sent.filter(({ name }) => !name.startsWith('amend')), [{ name: 'stop', atMs: 0 }, { name: 'trading-stop', atMs: 0 }]);
    assert.equal(queue.size, amends - limitsPerSecond.amend);
    runAll(clock);
    const amendTimes = sent.filter(({ name }) => name.startsWith('amend')).map(({ atMs }) => atMs);
    assert.deepEqual(amendTimes, Array.from({ length: amends }, (_, index) => 1_000 * Math.floor(index / limitsPerSecond.amend)));
    assert.deepEqual(sent.filter(({ name }) => name.startsWith('amend')).map(({ name }) => name), Array.from({ length: amends }, (_, index) => `amend ${index}`), 'in the order they came');
    assert.equal(queue.size, 0);
    // Reported for the operator's metrics: only the requests that waited, each with its wait.
    assert.deepEqual(waits, amendTimes.filter((atMs) => atMs > 0).map((atMs) => ['amend', atMs]));
  });

  void it('within an endpoint sends protection before new risk, whatever the order they came in', () => {
    const { clock, sent, push } = setUp();
    for (let index = 0; index < limitsPerSecond.create; index += 1) push(`entry ${index}`, 'create', 2);
    push('entry late', 'create', 2);
    clock.schedule(startMs + 400, () => push('stop', 'create', 0));
    clock.schedule(startMs + 500, () => push('exit', 'create', 0));
    runAll(clock);
    assert.deepEqual(sent.slice(limitsPerSecond.create), [{ name: 'stop', atMs: 1_000 }, { name: 'exit', atMs: 1_000 }, { name: 'entry late', atMs: 1_000 }]);
  });

  void it('wakes for a request whose endpoint frees sooner than the wake-up already armed for another', () => {
    const { clock, sent, push } = setUp();
    for (let index = 0; index < limitsPerSecond.create; index += 1) push(`stop ${index}`, 'create', 0); // the create window is full until 1,000
    clock.schedule(startMs + 500, () => {
      for (let index = 0; index <= limitsPerSecond.amend; index += 1) push(`amend ${index}`, 'amend', 0); // the last waits for 1,500
    });
    clock.schedule(startMs + 600, () => push('stop late', 'create', 0)); // waits for 1,000, not for the amend's 1,500
    runAll(clock);
    const at = (name: string): number | undefined => sent.find((item) => item.name === name)?.atMs;
    assert.deepEqual([at('stop late'), at(`amend ${limitsPerSecond.amend}`)], [1_000, 1_500]);
  });

  void it('puts a request refused for its rate back at the head of its lane, after 250 ms, then 500 ms', () => {
    const { clock, queue, sent, push, log } = setUp();
    const refused = push('stop', 'create', 0);
    clock.schedule(startMs + 100, () => {
      queue.retry(refused);
      push('exit', 'create', 0); // goes now: the window has room
    });
    runAll(clock);
    clock.schedule(startMs + 2_000, () => queue.retry(refused));
    runAll(clock);
    assert.deepEqual(sent, [{ name: 'stop', atMs: 0 }, { name: 'exit', atMs: 100 }, { name: 'stop', atMs: 350 }, { name: 'stop', atMs: 2_500 }]);
    assert.equal(queue.rateLimitWaits, 2);
    assert.match(log[0] ?? '', /rate limited \(create\); trying again in 250 ms \(attempt 2\)/);
  });
});
