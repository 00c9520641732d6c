// The Bybit v5 emulator's unknown-outcome fault: the venue executes an order create and the client
// hears nothing (until it gives up) or a bare HTTP 5xx; the order exists all the same, its pushes
// went out, and it is found by its link id. The test waits on the push, then aborts: no timers.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EmulatorServer } from '../../src/emulator/server.ts';
import { signedGet, signedPost, Stream } from './client.ts';

const startMs = 1_760_000_000_000;

describe('Bybit v5 emulator: unknown outcomes', { timeout: 30_000 }, () => {
  const nowMs = startMs;
  const server = new EmulatorServer({ symbols: ['SOLUSDT'], clock: () => nowMs, rateLimits: null });
  let port = 0;
  let stream: Stream | null = null;

  before(async () => {
    port = await server.listen();
    stream = await Stream.private(port, nowMs, ['order']);
  });
  after(async () => {
    stream?.close();
    await server.close();
  });

  const create = (orderLinkId: string, signal?: AbortSignal) => signedPost(
    port, '/v5/order/create', { category: 'linear', symbol: 'SOLUSDT', side: 'Buy', orderType: 'Limit', qty: '1', price: '140', orderLinkId }, nowMs,
    signal === undefined ? {} : { signal },
  );
  const findByLink = async (orderLinkId: string) => (await signedGet(port, '/v5/order/realtime', `symbol=SOLUSDT&orderLinkId=${orderLinkId}&category=linear`, nowMs)).json;
  const pushOf = (orderLinkId: string) => (message: Record<string, unknown>) =>
    message.topic === 'order' && (message.data as Record<string, unknown>[]).some((item) => item.orderLinkId === orderLinkId);

  it('executes the create and never answers it', async () => {
    server.unknownOutcome(1);
    const controller = new AbortController();
    const pending = create('lost-1', controller.signal);
    const rejected = assert.rejects(pending, (error: Error) => error.name === 'AbortError');
    await stream?.next(pushOf('lost-1'));
    controller.abort();
    await rejected;
    const entry = server.requests.find((request) => request.body.includes('lost-1'));
    assert.deepEqual([entry?.status, entry?.retCode], [null, null]);
    const found = await findByLink('lost-1');
    assert.equal((found.result.list as Record<string, unknown>[])[0]?.orderStatus, 'New');
    // The fault was for one create only.
    assert.equal((await create('after-1')).json.retCode, 0);
  });

  it('executes the create and answers a bare 502', async () => {
    server.unknownOutcome(1, 502);
    const reply = await create('lost-2');
    assert.equal(reply.status, 502);
    await stream?.next(pushOf('lost-2'));
    const found = await findByLink('lost-2');
    assert.equal((found.result.list as Record<string, unknown>[]).length, 1);
    assert.deepEqual(server.problems, []);
  });
});
