// The Bybit adapter times a snapshot's position read on the venue's clock. The engine takes a
// position missing from the snapshot as closed when its last report is older than the read; a read
// timed on a local clock that runs ahead of Bybit's would make a position opened just after the
// read look older, and the engine would drop it and cancel its stop (found by the simulation's
// clock-skew fault). The emulator's clock here runs 0.9 s behind the bot's.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { EmulatorServer } from '../../src/emulator/server.ts';
import type { LiveGateway } from './live-bot.ts';
import { startLiveGateway } from './live-bot.ts';

// (Bybit refuses a request stamped more than 1 s ahead of its clock, so no more than that.)
const behindMs = 900;
const servers: EmulatorServer[] = [];
const gateways: LiveGateway[] = [];

after(async () => {
  for (const gateway of gateways) await gateway.stop();
  for (const server of servers) await server.close();
});

describe('the Bybit adapter on a venue whose clock differs from the bot\'s', () => {
  it('times the position read of a snapshot by the venue\'s reply, not by the local clock', async () => {
    const server = new EmulatorServer({ symbols: ['SOLUSDT'], seed: 3, clock: () => Date.now() - behindMs });
    servers.push(server);
    const port = await server.listen();
    const gateway = await startLiveGateway(port, ['SOLUSDT']);
    gateways.push(gateway);
    const askedLocalMs = Date.now();
    gateway.venue.gateway.execute({ type: 'FetchSnapshot', commandId: 1, snapshotId: 1, fillsSinceMs: askedLocalMs - 60_000 });
    const deadlineMs = Date.now() + 10_000;
    while (!gateway.delivered.some((event) => event.type === 'SnapshotReceived' || event.type === 'SnapshotFailed') && Date.now() < deadlineMs) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    const snapshot = gateway.delivered.find((event) => event.type === 'SnapshotReceived');
    assert.ok(snapshot?.type === 'SnapshotReceived', `a snapshot: ${JSON.stringify(gateway.delivered.at(-1))}`);
    const venueNowMs = Date.now() - behindMs;
    // On the venue's clock: no later than the venue's now, and well behind the local clock.
    assert.ok(snapshot.positionsVenueMs <= venueNowMs, `read at ${snapshot.positionsVenueMs}, the venue's now ${venueNowMs}`);
    assert.ok(snapshot.positionsVenueMs < askedLocalMs - behindMs / 2, `read at ${snapshot.positionsVenueMs}: the local clock (${askedLocalMs}) was used`);
  });
});
