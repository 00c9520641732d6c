// The loopback protocol between the bot and the simulated venue's process: every message survives
// encoding, and a garbage line is refused with a reason that says what and where, never acted on.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientMessage, ServerMessage } from '../../src/venues/sim/wire.ts';
import { decodeClientMessage, decodeServerMessage, encodeLine } from '../../src/venues/sim/wire.ts';

const submit: ClientMessage = {
  type: 'request', id: 7,
  command: { type: 'SubmitOrder', commandId: 3, clientOrderId: 'b-12-e' as never, spec: { symbol: 'SOLUSDT', side: 'buy', sizeLots: 12, reduceOnly: false, type: { kind: 'limit', priceTicks: 15_000, postOnly: false }, stopLoss: { triggerTicks: 14_800, triggerBy: 'mark' } } },
};
const pushed: ServerMessage = { type: 'event', event: { type: 'TickerUpdated', symbol: 'SOLUSDT', lastTicks: 15_001, markTicks: null, venueMs: 42 } };

describe('loopback protocol', () => {
  it('decodes what it encodes, both ways', () => {
    assert.deepEqual(decodeClientMessage(encodeLine(submit)), { ok: true, message: submit });
    assert.deepEqual(decodeServerMessage(encodeLine(pushed)), { ok: true, message: pushed });
  });

  it('refuses garbage with a reason naming the field', () => {
    const garbage: readonly [string, RegExp][] = [
      ['not json', /json/i],
      ['{"type":"launch"}', /type/],
      [encodeLine(submit).replace('"sizeLots":12', '"sizeLots":1.5'), /sizeLots/],
      [encodeLine(submit).replace('"side":"buy"', '"side":"up"'), /side/],
    ];
    for (const [line, reason] of garbage) {
      const decoded = decodeClientMessage(line);
      assert.equal(decoded.ok, false, line);
      if (!decoded.ok) assert.match(decoded.reason, reason, line);
    }
    const bad = decodeServerMessage(encodeLine(pushed).replace('15001', '"15001"'));
    assert.equal(bad.ok, false);
  });
});
