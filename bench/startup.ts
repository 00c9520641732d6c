// Benchmark: time from start to trading-ready for 1, 10, 100 and 200 symbols, in round trips, on the
// simulated network (a fixed 50 ms round trip; a stream takes five to connect: TCP, TLS 1.3, the
// WebSocket upgrade, auth, subscribe; REST calls one each on kept-alive connections). The venue
// already holds one position of the bot per symbol, as a previous run left it; the bot starts with
// no journal and must restore them all. Measured twice: with each take-profit resting as a limit
// order (one open order per symbol, read 50 a page), and with stop and take-profit on the position.
//
// The sequential design of seed 002 is timed on the same network in the same run: per symbol, read
// its position and its orders and subscribe its position stream, one symbol after another, then
// connect the private stream.
//
//   node bench/startup.ts

import { Scheduler } from '../src/sim/scheduler.ts';
import { restoreNetwork, restoreSymbols, roundTripMs } from '../src/sim/startup.ts';

const symbolCounts = [1, 10, 100, 200];

function sequentialDesignMs(symbols: number): number {
  const scheduler = new Scheduler(0);
  const { restRequest, restReply, streamSetup } = restoreNetwork;
  const roundTrip = restRequest.max + restReply.max;
  let readyMs = 0;
  const restoreSymbol = (index: number): void => {
    if (index === symbols) {
      // Then the private stream, last.
      scheduler.schedule(scheduler.nowMs() + streamSetup.max, () => (readyMs = scheduler.nowMs()));
      return;
    }
    // position/list?symbol, then order/realtime?symbol, then subscribe the symbol's position stream.
    scheduler.schedule(scheduler.nowMs() + 3 * roundTrip, () => restoreSymbol(index + 1));
  };
  restoreSymbol(0);
  while (scheduler.runNext());
  return readyMs;
}

const trips = (ms: number): string => `${(ms / roundTripMs).toFixed(1)} RTT`;
const rows: { symbols: number; withOrders: number; withoutOrders: number; pages: number; sequential: number }[] = [];
for (const symbols of symbolCounts) {
  const withOrders = restoreSymbols(symbols, { takeProfitOrders: true });
  const withoutOrders = restoreSymbols(symbols, { takeProfitOrders: false });
  for (const run of [withOrders, withoutOrders]) {
    if (run.readyMs === null || run.world.auditor.violationCount > 0 || run.ordersSent > 0) {
      throw new Error(`${symbols} symbols: not a clean restore (ready ${run.readyMs}, violations ${run.world.auditor.violationCount}, orders sent ${run.ordersSent})`);
    }
  }
  rows.push({
    symbols, withOrders: withOrders.readyMs ?? 0, withoutOrders: withoutOrders.readyMs ?? 0,
    pages: withOrders.world.snapshots.pagesFetched, sequential: sequentialDesignMs(symbols),
  });
}

console.log(`bench/startup: round trip ${roundTripMs} ms; a stream connects in ${restoreNetwork.streamSetup.max / roundTripMs} round trips; pages of 200 positions, 50 orders, 100 fills`);
console.log('  symbols   ready, 1 open order each   ready, TP/SL on the position   snapshot pages   sequential design (seed 002)');
for (const row of rows) {
  console.log(`  ${String(row.symbols).padStart(7)}   ${trips(row.withOrders).padStart(24)}   ${trips(row.withoutOrders).padStart(28)}   ${String(row.pages).padStart(14)}   ${trips(row.sequential).padStart(28)}`);
}
const first = rows[0];
const last = rows[rows.length - 1];
if (first !== undefined && last !== undefined) {
  console.log(`  T(${last.symbols}) / T(${first.symbols}): ${(last.withOrders / first.withOrders).toFixed(2)} with an open order per symbol, ${(last.withoutOrders / first.withoutOrders).toFixed(2)} without (target <= 1.5); sequential design ${(last.sequential / first.sequential).toFixed(1)}`);
}
