// The simulated venue's REST snapshot, the way Bybit serves it: all USDT positions in one call (200
// a page), open orders across symbols 50 a page, executions since a time 100 a page, every ticker in
// one call, the wallet in one call. The kinds are fetched concurrently; the pages of one kind follow each other by cursor, each a round trip,
// each read from the venue when its request arrives (so pages of one snapshot are read at different
// times, as on a live venue). A lost page fails the snapshot after the REST timeout. Times in the
// answer (the positions' read time, tickers, the wallet) are the venue's clock's; `fillsSinceMs`
// is compared with the venue's fill times, as Bybit's startTime is.

import type { CommandOf } from '../core/commands.ts';
import type { Fill, OrderReport, PositionReport, Ticker, WalletReport } from '../core/events.ts';
import type { Incoming } from '../shell/ports.ts';
import type { SimVenue } from '../venues/sim/venue.ts';
import type { Network } from './network.ts';
import type { Scheduler, VenueClock } from './scheduler.ts';

export const positionsPerPage = 200;
export const ordersPerPage = 50;
export const fillsPerPage = 100;

type Parts = {
  positions: PositionReport[]; orders: OrderReport[]; fills: Fill[]; tickers: Ticker[]; wallet: WalletReport | null; positionsVenueMs: number; pending: number; failed: boolean;
};

/** Attempts at one snapshot page before the snapshot fails (the Bybit adapter's too). */
export const pageAttemptsMax = 3;

export class SnapshotService {
  private readonly scheduler: Scheduler;
  private readonly network: Network;
  private readonly venue: SimVenue;
  private readonly venueClock: VenueClock;
  /** Pages fetched so far, for the startup benchmark. */
  pagesFetched = 0;

  constructor(scheduler: Scheduler, network: Network, venue: SimVenue, venueClock: VenueClock) {
    this.scheduler = scheduler;
    this.network = network;
    this.venue = venue;
    this.venueClock = venueClock;
  }

  fetch(command: CommandOf<'FetchSnapshot'>, deliver: (incoming: Incoming) => void): void {
    const parts: Parts = { positions: [], orders: [], fills: [], tickers: [], wallet: null, positionsVenueMs: 0, pending: 5, failed: false };
    const sentAtMs = this.scheduler.nowMs();
    const done = (): void => {
      parts.pending -= 1;
      if (parts.pending > 0 || parts.failed) return;
      deliver({
        type: 'SnapshotReceived', snapshotId: command.snapshotId, positions: parts.positions, openOrders: parts.orders,
        fills: parts.fills, tickers: parts.tickers, positionsVenueMs: parts.positionsVenueMs, wallet: parts.wallet,
      });
    };
    const failed = (): void => {
      if (parts.failed) return;
      parts.failed = true;
      this.scheduler.schedule(sentAtMs + this.network.config.restTimeoutMs, () => deliver({ type: 'SnapshotFailed', snapshotId: command.snapshotId, reason: 'a page request timed out' }));
    };
    // Each read happens at the venue when the page's request arrives; what it read is taken in
    // only when its reply arrives (a lost reply is read again, never taken twice).
    this.chain((page) => {
      const all = this.venue.positionReports();
      const readMs = this.venueClock.nowMs();
      const slice = all.slice(page * positionsPerPage, (page + 1) * positionsPerPage);
      return () => {
        parts.positionsVenueMs = readMs;
        parts.positions.push(...slice);
        return (page + 1) * positionsPerPage < all.length;
      };
    }, done, failed);
    let afterOrderId = 0;
    this.chain(() => {
      const open = this.venue.openOrders().filter((order) => orderNumber(order) > afterOrderId).slice(0, ordersPerPage + 1);
      const page = open.slice(0, ordersPerPage);
      return () => {
        parts.orders.push(...page);
        afterOrderId = page.length > 0 ? orderNumber(page[page.length - 1] as OrderReport) : afterOrderId;
        return open.length > ordersPerPage;
      };
    }, done, failed);
    this.chain(() => {
      const tickers = this.venue.tickers(this.venueClock.nowMs());
      return () => {
        parts.tickers.push(...tickers);
        return false;
      };
    }, done, failed);
    this.chain(() => {
      const wallet = this.venue.wallet(this.venueClock.nowMs());
      return () => {
        parts.wallet = wallet;
        return false;
      };
    }, done, failed);
    let fillIndex = 0;
    this.chain(() => {
      const since = this.venue.fills().filter((fill) => fill.venueMs >= command.fillsSinceMs);
      const page = since.slice(fillIndex, fillIndex + fillsPerPage);
      return () => {
        parts.fills.push(...page);
        fillIndex += fillsPerPage;
        return fillIndex < since.length;
      };
    }, done, failed);
  }

  /**
   * Fetches pages one after another: `readPage` reads one at the venue, and what it returns takes
   * the page in and says if there is another.
   * A page whose request or reply is lost is asked again once its timeout passes (a read changes
   * nothing, so asking twice is safe), up to `pageAttemptsMax` times, as the Bybit adapter does;
   * only then does the snapshot fail. Without it a snapshot of many pages would rarely come through
   * a lossy network, and the bot would stay blind.
   */
  private chain(readPage: (page: number) => () => boolean, done: () => void, failed: () => void, page = 0, attempt = 1): void {
    const retryOrFail = (): void => {
      if (attempt >= pageAttemptsMax) {
        failed();
        return;
      }
      this.scheduler.schedule(this.scheduler.nowMs() + this.network.config.restTimeoutMs, () => this.chain(readPage, done, failed, page, attempt + 1));
    };
    if (this.network.requestLost()) {
      retryOrFail();
      return;
    }
    this.scheduler.schedule(this.scheduler.nowMs() + this.network.latency(this.network.config.restRequest), () => {
      this.pagesFetched += 1;
      const take = readPage(page);
      if (this.network.replyLost()) {
        retryOrFail();
        return;
      }
      const replyMs = this.network.latency(this.network.config.restReply) + this.network.staleSnapshotDelay();
      this.scheduler.schedule(this.scheduler.nowMs() + replyMs, () => (take() ? this.chain(readPage, done, failed, page + 1) : done()));
    });
  }
}

/** Venue order ids count up (`o17`): the cursor of the open-orders pages. */
function orderNumber(order: OrderReport): number {
  return Number(order.venueOrderId.slice(1));
}
