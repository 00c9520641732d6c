import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StreamName } from '../../src/core/events.ts';
import type { Incoming } from '../../src/shell/ports.ts';
import type { StreamHandlers, StreamTransport } from '../../src/shell/streams.ts';
import { StreamSupervisor } from '../../src/shell/streams.ts';
import { Scheduler } from '../../src/sim/scheduler.ts';

/** A transport the test drives by hand: it records what the supervisor asks for. */
class FakeTransport implements StreamTransport {
  readonly opened: { stream: StreamName; id: number; atMs: number; handlers: StreamHandlers }[] = [];
  readonly closed: number[] = [];
  readonly pinged: number[] = [];
  private readonly clock: Scheduler;
  constructor(clock: Scheduler) {
    this.clock = clock;
  }
  open(stream: StreamName, connectionId: number, handlers: StreamHandlers): void {
    this.opened.push({ stream, id: connectionId, atMs: this.clock.nowMs(), handlers });
  }
  close(_stream: StreamName, connectionId: number): void {
    this.closed.push(connectionId);
  }
  ping(_stream: StreamName, connectionId: number): void {
    this.pinged.push(connectionId);
  }
  last(stream: StreamName) {
    const found = this.opened.filter((entry) => entry.stream === stream).at(-1);
    if (found === undefined) throw new Error(`no ${stream} connection`);
    return found;
  }
}

function setup(random = 0.5) {
  const clock = new Scheduler(0);
  const transport = new FakeTransport(clock);
  const reported: Incoming[] = [];
  const supervisor = new StreamSupervisor({
    clock, transport, random: () => random, report: (incoming) => reported.push(incoming),
    config: { heartbeatMs: 1_000, stallMs: 3_000, connectTimeoutMs: 5_000, backoffMs: 200, backoffMsMax: 2_000 },
  });
  const runUntil = (atMs: number): void => {
    while (clock.nextAtMs() !== null && (clock.nextAtMs() ?? Infinity) <= atMs) clock.runNext();
  };
  return { clock, transport, reported, supervisor, runUntil };
}

describe('the stream supervisor', () => {
  it('says a stream is up once subscribed, and forwards its messages', () => {
    const { transport, reported, supervisor } = setup();
    supervisor.start();
    transport.last('private').handlers.onOpen();
    transport.last('private').handlers.onMessage({ type: 'TickerUpdated', symbol: 'X', lastTicks: 1, markTicks: 1, venueMs: 1 });
    assert.deepEqual(reported.map((incoming) => incoming.type), ['StreamConnected', 'TickerUpdated']);
    assert.equal(supervisor.status('private'), 'up');
  });

  it('detects a silent stall by heartbeat, reports it, and reconnects after a jittered backoff', () => {
    const { transport, reported, supervisor, runUntil } = setup(0.5);
    supervisor.start();
    const first = transport.last('private');
    first.handlers.onOpen();
    runUntil(2_500); // pings go out, no pong comes back
    assert.ok(transport.pinged.includes(first.id));
    runUntil(4_000);
    const down = reported.find((incoming) => incoming.type === 'StreamDisconnected');
    assert.ok(down?.type === 'StreamDisconnected' && /stalled: no message or pong for \d+ ms/.test(down.reason));
    assert.ok(transport.closed.includes(first.id));
    const stalledAt = 4_000;
    runUntil(stalledAt + 200);
    const second = transport.last('private');
    assert.notEqual(second.id, first.id, 'reconnected');
    assert.ok(second.atMs - stalledAt <= 200 && second.atMs - stalledAt >= 100, `backoff 100..200 ms for the first attempt, was ${second.atMs - stalledAt}`);
  });

  it('keeps a live stream alive while pongs come back', () => {
    const { transport, reported, supervisor, runUntil } = setup();
    supervisor.start();
    const connection = transport.last('private');
    connection.handlers.onOpen();
    for (let atMs = 500; atMs <= 20_000; atMs += 500) {
      runUntil(atMs);
      connection.handlers.onMessage(null);
    }
    assert.equal(reported.filter((incoming) => incoming.type === 'StreamDisconnected').length, 0);
  });

  it('counts a connection that drops soon after subscribing as a failed attempt, and starts afresh only after one that lasted', () => {
    const clock = new Scheduler(0);
    const transport = new FakeTransport(clock);
    const notices: string[] = [];
    const supervisor = new StreamSupervisor({
      clock, transport, random: () => 1, report: () => undefined, onNotice: (notice) => notices.push(notice.code),
      config: { heartbeatMs: 1_000, stallMs: 3_000, connectTimeoutMs: 5_000, backoffMs: 200, backoffMsMax: 2_000, attemptsPerAlarm: 5, stableMs: 10_000 },
    });
    supervisor.start();
    const starts: number[] = [];
    for (let attempt = 0; attempt < 6; attempt += 1) {
      const connection = transport.last('private');
      starts.push(connection.atMs);
      connection.handlers.onOpen(); // subscribed...
      connection.handlers.onClose('closed by the venue'); // ...and closed at once
      while (transport.last('private') === connection && clock.runNext());
    }
    const gaps = starts.slice(1).map((atMs, index) => atMs - (starts[index] ?? 0));
    assert.deepEqual(gaps, [200, 400, 800, 1_600, 2_000], 'the backoff grows: a connection that did not last is a failure');
    assert.deepEqual(notices, ['stream-unreachable'], 'the fifth in a row raises the alarm');
    // One that lasts its 10 s: its end starts the backoff again.
    const lasting = transport.last('private');
    lasting.handlers.onOpen();
    while ((clock.nextAtMs() ?? Infinity) <= lasting.atMs + 10_000) {
      clock.runNext();
      lasting.handlers.onMessage(null);
    }
    const droppedAt = clock.nowMs();
    lasting.handlers.onClose('closed by the venue');
    while (transport.last('private') === lasting && clock.runNext());
    assert.equal(transport.last('private').atMs - droppedAt, 200);
  });

  it('backs off exponentially up to its bound, and drops messages from replaced connections', () => {
    const { clock, transport, reported, supervisor } = setup(1);
    supervisor.start();
    const starts: number[] = [];
    for (let attempt = 0; attempt < 8; attempt += 1) {
      const connection = transport.last('public');
      starts.push(connection.atMs);
      connection.handlers.onClose('refused');
      while (transport.last('public') === connection && clock.runNext());
    }
    const gaps = starts.slice(1).map((atMs, index) => atMs - (starts[index] ?? 0));
    assert.deepEqual(gaps, [200, 400, 800, 1_600, 2_000, 2_000, 2_000]);
    const stale = transport.opened.find((entry) => entry.stream === 'public');
    stale?.handlers.onMessage({ type: 'TickerUpdated', symbol: 'X', lastTicks: 1, markTicks: 1, venueMs: 1 });
    assert.equal(reported.filter((incoming) => incoming.type === 'TickerUpdated').length, 0);
  });
});
