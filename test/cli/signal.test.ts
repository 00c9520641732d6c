// `vigil signal` against a stand-in API on loopback: a close never drops the flags that would make
// it partial, a URL with a password is refused without being echoed, and every failure after the
// signal left says its id, so a retry can be made safely with the same one.

import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it, mock } from 'node:test';
import { openFields, runSignalCommand } from '../../src/cli/signal.ts';
import { UsageError } from '../../src/cli/args.ts';

type Handler = (request: IncomingMessage, response: ServerResponse, body: string) => void;

describe('vigil signal', () => {
  let handler: Handler = () => undefined;
  const bodies: string[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => { body += chunk.toString(); });
    request.on('end', () => {
      bodies.push(body);
      handler(request, response, body);
    });
  });
  let base = '';
  const printed: string[] = [];

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    process.env.VIGIL_API_TOKEN = 'test-token';
  });
  after(() => {
    server.closeAllConnections();
    server.close();
    delete process.env.VIGIL_API_TOKEN;
  });
  beforeEach(() => {
    bodies.length = 0;
    printed.length = 0;
    mock.restoreAll();
    mock.method(console, 'error', (...args: unknown[]) => printed.push(args.join(' ')));
    mock.method(console, 'log', (...args: unknown[]) => printed.push(args.join(' ')));
  });

  it('refuses a close with a size or any other open-only flag, sending nothing', async () => {
    await assert.rejects(runSignalCommand(['close', '--symbol', 'SOLUSDT', '--quantity', '0.5', '--api', base]), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, /--quantity only apply to open/);
      return true;
    });
    await assert.rejects(runSignalCommand(['close', '--symbol', 'SOLUSDT', '--side', 'sell', '--stop-percent', '1', '--api', base]), /--side, --stop-percent only apply to open/);
    assert.equal(bodies.length, 0);
  });

  it('reads --side in either case, and names a side it cannot read', () => {
    assert.equal(openFields({ side: 'BUY', quantity: '1' }).side, 'buy');
    assert.equal(openFields({ side: 'Sell', quantity: '1' }).side, 'sell');
    assert.throws(() => openFields({ side: 'long', quantity: '1' }), /--side: expected buy or sell, got "long"/);
    assert.throws(() => openFields({ quantity: '1' }), /--side buy\|sell is required to open/);
  });

  it('refuses an API URL with a user name or password, without printing it', async () => {
    for (const api of ['http://admin:hunter2@127.0.0.1:1', 'ftp://user:hunter2@x']) {
      await assert.rejects(runSignalCommand(['close', '--symbol', 'SOLUSDT', '--api', api]), (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.doesNotMatch(error.message, /hunter2/);
        return true;
      });
    }
    assert.equal(bodies.length, 0);
  });

  it('says a timed-out signal may have been taken, and the id to repeat it with', async () => {
    handler = () => undefined; // never answers
    const code = await runSignalCommand(['close', '--symbol', 'SOLUSDT', '--api', base], { timeoutMs: 200 });
    assert.equal(code, 1);
    const sent = JSON.parse(bodies[0] ?? '{}') as { id?: string };
    assert.ok(sent.id?.startsWith('cli-'));
    assert.equal(printed.length, 1);
    assert.match(printed[0] ?? '', /may or may not have been taken/);
    assert.ok(printed[0]?.includes(`repeat with --id ${sent.id}`), printed[0]);
  });

  it('names the id in an error answer, and exits 2 for the API\'s 400', async () => {
    handler = (_request, response) => {
      response.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway');
    };
    assert.equal(await runSignalCommand(['close', '--symbol', 'SOLUSDT', '--id', 'x-1', '--api', base]), 1);
    assert.match(printed[0] ?? '', /^error \(502\): bad gateway \(id x-1\)$/);
    handler = (_request, response) => {
      response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid signal', reasons: ['symbol: unknown'] }));
    };
    assert.equal(await runSignalCommand(['close', '--symbol', 'SOLUSDT', '--id', 'x-2', '--api', base]), 2);
    assert.equal(printed[1], 'error (400): invalid signal (id x-2)\n  symbol: unknown');
  });

  it('accepts, printing the outcome and the id', async () => {
    handler = (request, response, body) => {
      assert.equal(request.headers.authorization, 'Bearer test-token');
      const { id } = JSON.parse(body) as { id: string };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: 'accepted', id, outcome: 'closing' }));
    };
    assert.equal(await runSignalCommand(['close', '--symbol', 'solusdt', '--id', 'x-3', '--api', base]), 0);
    assert.deepEqual(JSON.parse(bodies[0] ?? ''), { id: 'x-3', action: 'close', symbol: 'SOLUSDT' });
    assert.equal(printed[0], 'accepted: closing (id x-3)');
  });
});
