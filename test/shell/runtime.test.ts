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

  it('bounds its inbox', () => {
    const { rt } = runtime({ inboxEventsMax: 2 });
    for (let i = 0; i < 3; i += 1) rt.receive({ type: 'InstrumentsLoaded', instruments: [] });
    assert.match(rt.halt?.reason ?? '', /inbox overflow/);
  });
});
