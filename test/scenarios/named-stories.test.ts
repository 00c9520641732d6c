// The other named scenarios: a stop the venue never confirms, an entry whose reply is lost, a
// position opened by hand, a gap through the stop, and a storm of duplicates and reordering.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mutant } from '../../src/sim/mutants.ts';
import { scenarios } from '../../src/sim/scenarios.ts';
import { resumeOrders } from '../../src/sim/workload.ts';
import { record, violationNames } from '../support/scenario.ts';

const scenario = (name: string) => {
  const found = scenarios[name];
  if (found === undefined) throw new Error(`no scenario ${name}`);
  return found;
};

describe('scenario: the stop is never acknowledged', () => {
  it('closes the position at market when the deadline passes', () => {
    const run = record(scenario('stop-never-acknowledged'));
    assert.equal(run.world.auditor.violationCount, 0, JSON.stringify(run.world.auditor.violations));
    const exitAt = run.firstAt((applied) => applied.commands.some((command) => command.type === 'SubmitOrder' && command.clientOrderId.endsWith('-x')));
    assert.equal(exitAt, 1_050 + 2_000, 'exit sent when the 2 s deadline from the stop request passes');
    assert.equal(run.world.venue.position('BTCUSDT').sizeLots, 0);
    assert.equal(run.world.runtime.state.counters.protectiveExits, 1);
  });
});

describe('scenario: the entry reply is lost', () => {
  it('resolves the entry by its client order id and never sends it twice', () => {
    const run = record(scenario('entry-outcome-unknown'));
    assert.equal(run.world.auditor.violationCount, 0, JSON.stringify(run.world.auditor.violations));
    const entries = run.world.venue.submissions().filter((submission) => submission.clientOrderId?.includes('-e') === true);
    assert.equal(entries.length, 1);
    const queried = run.applied.some((applied) => applied.commands.some((command) => command.type === 'QueryOrder'));
    assert.ok(queried, 'the engine asked the venue');
    const entryId = entries[0]?.clientOrderId ?? '';
    assert.equal(run.world.runtime.state.orders.get(entryId)?.status, 'filled');
  });

  it('is caught when an engine resends on timeout', () => {
    const run = record(scenario('entry-outcome-unknown'), { step: mutant('resend-on-timeout') });
    assert.ok(violationNames(run).includes('duplicate-entry'), violationNames(run).join(', '));
  });
});

describe('scenario: a position opened by hand', () => {
  it('is adopted and protected by a stop on the venue', () => {
    const run = record(scenario('manual-order-adopted'));
    assert.equal(run.world.auditor.violationCount, 0, JSON.stringify(run.world.auditor.violations));
    assert.equal(run.world.runtime.state.counters.adoptedPositions, 1);
    assert.equal(run.world.venue.isProtected('BTCUSDT'), true);
    const [stop] = run.world.venue.openOrders();
    assert.equal(stop?.side, 'buy', 'a short is protected by a buy stop');
    assert.equal(stop?.sizeLots, 25);
  });

  it('is caught when an engine drops updates about orders it did not place', () => {
    const run = record(scenario('manual-order-adopted'), { step: mutant('drop-unknown-orders') });
    assert.ok(violationNames(run).includes('event-lost'), violationNames(run).join(', '));
  });
});

describe('scenario: the price gaps through the stop', () => {
  it('is closed by the venue and the loss is booked to the unit', () => {
    const run = record(scenario('gap-through-stop'));
    assert.equal(run.world.auditor.violationCount, 0, JSON.stringify(run.world.auditor.violations));
    const venue = run.world.venue.position('BTCUSDT');
    const engine = run.world.runtime.state.positions.get('main/BTCUSDT');
    assert.equal(venue.sizeLots, 0);
    assert.ok(venue.realizedPnlE8 < 0);
    assert.deepEqual([engine?.realizedPnlE8, engine?.feesE8], [venue.realizedPnlE8, venue.feesE8]);
  });
});

describe('scenario: every message twice, many out of order', () => {
  it('converges, applies each fill once and handles the repeated request once', () => {
    const run = record(scenario('duplicates-and-reordering'));
    assert.equal(run.world.auditor.violationCount, 0, JSON.stringify(run.world.auditor.violations));
    const { counters } = run.world.runtime.state;
    assert.ok(counters.duplicateFills > 0);
    assert.equal(counters.entriesSubmitted, 1);
    assert.equal(run.world.venue.position('BTCUSDT').sizeLots, 0, 'closed on request');
  });
});

describe('scenario: stopped out while the private stream is silent', () => {
  const noticed = (code: string) => (applied: { readonly commands: readonly { readonly type: string; readonly notice?: { readonly code: string } }[] }): boolean =>
    applied.commands.some((command) => command.type === 'Notify' && command.notice?.code === code);

  it('learns the truth from the venue on "nothing to reduce", long before the silence is noticed, and protects what comes after', () => {
    const run = record(scenario('stopped-out-while-stream-stalled'));
    assert.equal(run.world.auditor.violationCount, 0, JSON.stringify(run.world.auditor.violations));
    const doneAt = run.firstAt(noticed('intent-done'));
    const silenceNoticedAt = run.firstAt(noticed('stream-down'));
    assert.ok(doneAt !== null && silenceNoticedAt !== null);
    assert.equal(doneAt, 5_700, 'one round trip for the rejected exit, one for the snapshot');
    assert.ok(silenceNoticedAt > 10_000, `the stall is noticed only at +${silenceNoticedAt} ms`);
    const exits = run.world.venue.submissions().filter((submission) => /-x\d*$/.test(submission.clientOrderId ?? ''));
    assert.equal(exits.length, 1, 'no blind retries of an exit the venue says has nothing to close');
    assert.equal(run.world.venue.position('BTCUSDT').sizeLots, 2);
    assert.equal(run.world.venue.isProtected('BTCUSDT'), true, 'the hand-bought lots are adopted and protected');
  });
});

describe('scenario: the process freezes with a stop unanswered', () => {
  for (const order of resumeOrders) {
    it(`reads what waited before its timers judge anything (waking ${order})`, () => {
      const story = scenario('frozen-with-stop-unanswered');
      const run = record({ ...story, actions: story.actions.map((action) => (action.kind === 'pause' ? { ...action, order } : action)) });
      assert.equal(run.world.auditor.violationCount, 0, JSON.stringify(run.world.auditor.violations));
      assert.equal(run.world.totals().pauses, undefined, 'pauses are the world\'s count, not the engine\'s');
      assert.equal(run.world.pauses.all, 1);
      // The stop's deadline passed during the freeze, with its acknowledgement waiting in the socket:
      // no exit at market, and the streams, whose messages waited too, were not dropped as silent.
      const { counters } = run.world.runtime.state;
      assert.equal(counters.protectiveExits, 0);
      assert.equal(run.applied.filter((applied) => applied.event.type === 'StreamDisconnected').length, 0);
      // The stop fired on the venue during the freeze; its fill, read at the thaw, closed the position.
      const venue = run.world.venue.position('BTCUSDT');
      const engine = run.world.runtime.state.positions.get('main/BTCUSDT');
      assert.equal(venue.sizeLots, 0);
      assert.equal(engine?.realizedPnlE8, venue.realizedPnlE8);
      const stopFilledAt = run.firstAt((applied) => applied.event.type === 'FillReceived' && applied.event.clientOrderId?.endsWith('-sl') === true);
      assert.equal(stopFilledAt, 1_060 + 8_000, 'read when the process thawed');
    });
  }
});
