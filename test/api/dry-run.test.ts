// The dry run (`vigil run --dry-run`): reads reach the venue, writes are refused with the dry-run
// reason a moment later, and the engine ends up knowing the truth: the intent is over, nothing is
// working, nothing is waiting for a reply.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CommandOf } from '../../src/core/commands.ts';
import { createEngineState } from '../../src/core/state.ts';
import { dryRunGateway, dryRunReason } from '../../src/cli/run.ts';
import { InMemoryJournal } from '../../src/shell/ports.ts';
import type { Incoming } from '../../src/shell/ports.ts';
import { Runtime } from '../../src/shell/runtime.ts';
import { ManualClock, RecordingGateway, sol, solTicks } from './support.ts';

describe('the dry run', () => {
  it('passes snapshots through, refuses every order with the dry-run reason, and leaves nothing in flight', () => {
    const clock = new ManualClock();
    const venue = new RecordingGateway();
    const notices: string[] = [];
    const deliver = (incoming: Incoming): void => {
      runtime.receive(incoming);
      runtime.drain();
    };
    const runtime = new Runtime({
      state: createEngineState({ botId: 'dry' }), clock, journal: new InMemoryJournal(),
      gateway: dryRunGateway(venue, (incoming) => clock.schedule(clock.nowMs(), () => deliver(incoming))),
      onNotice: (notice) => notices.push(`${notice.code} ${notice.text}`),
    });
    deliver({ type: 'InstrumentsLoaded', instruments: [sol] });
    deliver({ type: 'EngineStarted' });
    deliver({ type: 'StreamConnected', stream: 'public' });
    deliver({ type: 'StreamConnected', stream: 'private' });
    const fetch = venue.commands.find((command): command is CommandOf<'FetchSnapshot'> => command.type === 'FetchSnapshot');
    assert.ok(fetch !== undefined, 'the snapshot request reaches the venue');
    deliver({
      type: 'SnapshotReceived', snapshotId: fetch.snapshotId, positions: [], openOrders: [], fills: [], positionsVenueMs: clock.nowMs(), wallet: null,
      tickers: [{ symbol: 'SOLUSDT', lastTicks: solTicks, markTicks: solTicks, venueMs: clock.nowMs() }],
    });
    assert.equal(runtime.state.lifecycle.phase, 'trading');

    deliver({
      type: 'OpenRequested', requestId: 'd1', symbol: 'SOLUSDT', side: 'buy', size: { quantity: '1' }, entry: { kind: 'market' }, stopLoss: { percent: 2 }, takeProfit: null,
    });
    assert.match(runtime.state.requests.get('d1')?.outcome ?? '', /^accepted as /);
    clock.advance(0); // the refusal arrives a moment later, never inside the step that sent the order
    assert.deepEqual(venue.commands.map((command) => command.type), ['FetchSnapshot'], 'no order reached the venue');
    const intent = [...runtime.state.intents.values()][0];
    assert.equal(intent?.phase.name, 'done', 'the intent ended: the entry was refused');
    const entry = [...runtime.state.orders.values()][0];
    assert.equal(entry?.status, 'rejected');
    // Said as what happened: not sent, never "rejected by the venue".
    assert.ok(notices.includes(`order-rejected ${entry?.key ?? ''} not sent: ${dryRunReason}`), notices.join('\n'));
    assert.ok(notices.every((line) => !line.includes('rejected by the venue')), notices.join('\n'));
    assert.equal(runtime.halt, null);
  });

  it('refuses a cancel the same way', () => {
    const delivered: Incoming[] = [];
    const gateway = dryRunGateway(new RecordingGateway(), (incoming) => delivered.push(incoming));
    gateway.execute({ type: 'CancelOrder', commandId: 7, clientOrderId: 'dry-1-e' as never, symbol: 'SOLUSDT', venueOrderId: null });
    assert.deepEqual(delivered, [{ type: 'OrderCancelRejected', commandId: 7, clientOrderId: 'dry-1-e', code: 'not-sent', reason: dryRunReason }]);
  });
});
