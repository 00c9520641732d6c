import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command, Notice } from '../../src/core/commands.ts';
import { step } from '../../src/core/engine/step.ts';
import type { Event } from '../../src/core/events.ts';
import { createEngineState } from '../../src/core/state.ts';
import type { VenueCommand } from '../../src/shell/ports.ts';
import { InMemoryJournal } from '../../src/shell/ports.ts';
import { Runtime } from '../../src/shell/runtime.ts';
import { Scheduler } from '../../src/sim/scheduler.ts';
import { btc } from '../support/events.ts';

function runtime(options: { step?: (state: ReturnType<typeof createEngineState>, event: Event) => Command[]; inboxEventsMax?: number } = {}) {
  const clock = new Scheduler(1_000);
  const journal = new InMemoryJournal();
  const sent: VenueCommand[] = [];
  const notices: Notice[] = [];
  const order: string[] = [];
  const rt = new Runtime({
    state: createEngineState({ botId: 'r' }), clock, journal,
    gateway: { execute: (command) => { order.push(`send ${command.type} (journal ${journal.size})`); sent.push(command); } },
    onNotice: (notice) => notices.push(notice),
    ...(options.step === undefined ? {} : { step: options.step }),
    ...(options.inboxEventsMax === undefined ? {} : { inboxEventsMax: options.inboxEventsMax }),
  });
  return { rt, clock, journal, sent, notices, order };
}

describe('the runtime', () => {
  it('journals an event before applying it, and sends its commands after', () => {
    const { rt, journal, sent, order } = runtime();
    rt.receive({ type: 'InstrumentsLoaded', instruments: [btc] });
    rt.receive({ type: 'EngineStarted' });
    rt.receive({ type: 'StreamConnected', stream: 'private' });
    rt.drain();
    assert.equal(journal.size, 3);
    assert.deepEqual(order, ['send FetchSnapshot (journal 3)']);
    assert.equal(sent[0]?.type, 'FetchSnapshot');
    assert.ok([...journal.entries()].every((event) => event.atMs === 1_000), 'stamped with the receive time');
  });

  it('turns a timer command into a TimerFired event at its time', () => {
    const seen: Event[] = [];
    const { rt, clock } = runtime({
      step: (state, event) => {
        seen.push(event);
        return event.type === 'InstrumentsLoaded' ? [{ type: 'StartTimer', timerId: 7, fireAtMs: 1_500 }] : step(state, event);
      },
    });
    rt.receive({ type: 'InstrumentsLoaded', instruments: [] });
    rt.drain();
    assert.ok(clock.runNext());
    rt.drain();
    assert.equal(clock.nowMs(), 1_500);
    assert.deepEqual(seen.map((event) => [event.type, event.atMs]), [['InstrumentsLoaded', 1_000], ['TimerFired', 1_500]]);
  });

  it('halts loudly on an invariant failure and sends nothing after it', () => {
    const { rt, sent, notices } = runtime({ step: () => { throw new Error('broken'); } });
    rt.receive({ type: 'InstrumentsLoaded', instruments: [] });
    rt.receive({ type: 'InstrumentsLoaded', instruments: [] });
    rt.drain();
    assert.match(rt.halt?.reason ?? '', /engine invariant failed on InstrumentsLoaded: broken/);
    assert.equal(notices.at(-1)?.level, 'alarm');
    rt.receive({ type: 'InstrumentsLoaded', instruments: [] });
    rt.drain();
    assert.equal(sent.length, 0);
  });

  it('journals in the order it applies when a gateway answers, and drains, before returning', () => {
    const clock = new Scheduler(1_000);
    const journal = new InMemoryJournal();
    const applied: string[] = [];
    const rt: Runtime = new Runtime({
      state: createEngineState({ botId: 'r' }), clock, journal,
      gateway: {
        execute: (command) => {
          if (command.type !== 'FetchSnapshot') return;
          rt.receive({ type: 'SnapshotFailed', snapshotId: command.snapshotId, reason: 'answered at once' });
          rt.drain();
        },
      },
      onApplied: (event) => applied.push(event.type),
    });
    rt.receive({ type: 'InstrumentsLoaded', instruments: [btc] });
    rt.receive({ type: 'EngineStarted' });
    rt.receive({ type: 'StreamConnected', stream: 'private' }); // asks for a snapshot
    rt.receive({ type: 'StreamConnected', stream: 'public' });
    rt.drain();
    assert.deepEqual(applied, ['InstrumentsLoaded', 'EngineStarted', 'StreamConnected', 'StreamConnected', 'SnapshotFailed']);
    assert.deepEqual([...journal.entries()].map((event) => event.type), applied);
  });

  it('halts, applying nothing, when the journal cannot write a batch', () => {
    const clock = new Scheduler(1_000);
    const state = createEngineState({ botId: 'r' });
    const sent: VenueCommand[] = [];
    let failing = true;
    const rt = new Runtime({
      state, clock, gateway: { execute: (command) => sent.push(command) },
      journal: {
        append: () => {
          if (failing) throw new Error('disk I/O error');
        },
        entries: () => [],
        size: 0,
      },
    });
    rt.receive({ type: 'InstrumentsLoaded', instruments: [btc] });
    rt.receive({ type: 'EngineStarted' });
    rt.drain();
    assert.equal(rt.halt?.reason, 'the journal could not write 2 event(s), none applied: disk I/O error');
    assert.equal(state.counters.eventsApplied, 0);
    assert.equal(state.instruments.size, 0);
    failing = false;
    rt.receive({ type: 'InstrumentsLoaded', instruments: [btc] });
    rt.drain();
    assert.equal(state.counters.eventsApplied, 0, 'nothing after the halt either');
    assert.equal(sent.length, 0);
  });

  it('halts when the journal cannot write a batch\'s ledger rows or snapshot, rather than throw into the caller', () => {
    const journal = new InMemoryJournal();
    const rt = new Runtime({
      state: createEngineState({ botId: 'r' }), clock: new Scheduler(1_000), gateway: { execute: () => undefined },
      journal: { append: (events) => journal.append(events), applied: () => { throw new Error('database or disk is full'); }, entries: () => journal.entries(), size: 0 },
    });
    rt.receive({ type: 'InstrumentsLoaded', instruments: [btc] });
    rt.receive({ type: 'EngineStarted' });
    assert.doesNotThrow(() => rt.drain());
    assert.equal(rt.halt?.reason, 'the journal could not write the ledger or a snapshot after a batch (its events are in): database or disk is full');
    assert.equal(journal.size, 2);
  });

  it('hands the journal neither records nor a snapshot of a batch it halted in', () => {
    const clock = new Scheduler(1_000);
    const appliedCalls: number[] = [];
    const journal = new InMemoryJournal();
    const rt = new Runtime({
      state: createEngineState({ botId: 'r' }), clock, gateway: { execute: () => undefined },
      journal: { append: (events) => journal.append(events), applied: (_state, records) => appliedCalls.push(records.length), entries: () => journal.entries(), size: 0 },
      step: (state, event) => {
        if (event.type === 'EngineStarted') throw new Error('broken');
        return step(state, event);
      },
    });
    rt.receive({ type: 'InstrumentsLoaded', instruments: [btc] });
    rt.drain();
    assert.deepEqual(appliedCalls, [0]);
    rt.receive({ type: 'InstrumentsLoaded', instruments: [btc] });
    rt.receive({ type: 'EngineStarted' });
    rt.receive({ type: 'StreamConnected', stream: 'public' });
    rt.drain();
    assert.match(rt.halt?.reason ?? '', /broken/);
    assert.deepEqual(appliedCalls, [0], 'the halted batch was not handed over');
  });

  it('bounds its inbox', () => {
    const { rt } = runtime({ inboxEventsMax: 2 });
    for (let i = 0; i < 3; i += 1) rt.receive({ type: 'InstrumentsLoaded', instruments: [] });
    assert.match(rt.halt?.reason ?? '', /inbox overflow/);
  });
});
