// The simulated venue as a process of its own: a SimVenue on the real clock, driven by a seeded
// random walk per instrument, served over loopback with the protocol of wire.ts. The bot trades
// against it from another process (src/cli/bot.ts), which is what the crash test kills and restarts.
//
// Facts go to every subscribed connection of their stream the moment the venue makes them; a
// request is executed when it arrives and its reply leaves `replyDelayMs` later, so the stream
// usually speaks before the reply (as on Bybit) and a test has a window between "the venue acted"
// and "the bot knows". The server measures, on its own clock, how long each symbol held a position
// without a stop on the venue: it samples after every change it makes (a request, a price tick),
// and the venue changes at no other moment, so the measure is exact to the millisecond.
//
// Invariants: only 127.0.0.1 is listened on; a line that does not decode closes its connection with
// an `error` that says why and never reaches the venue; a connection is either one stream or the
// requests, never both; a stream client that stops reading is dropped once `bufferBytesMax` bytes wait
// for it (its stream would lag without bound); the same seed gives the same price path.

import type { Server, Socket } from 'node:net';
import { createServer } from 'node:net';
import type { CommandOf } from '../../core/commands.ts';
import type { StreamName } from '../../core/events.ts';
import type { Instrument } from '../../core/instrument.ts';
import { priceToTicksRounded } from '../../core/instrument.ts';
import type { VenueCommand } from '../../shell/ports.ts';
import { instrument } from '../../sim/instruments.ts';
import { Rng } from '../../sim/rng.ts';
import { ExposureMeter } from './exposure.ts';
import { PriceWalk } from './walk.ts';
import type { VenueFact } from './venue.ts';
import { SimVenue } from './venue.ts';
import { answerOrderCommand } from './rest.ts';
import type { Audit, CommandReply } from './wire.ts';
import { decodeClientMessage, encodeLine, readLines, streamEventOf, streamOf } from './wire.ts';

export type SimVenueServerOptions = {
  /** Instruments from src/sim/instruments.ts that have a start price here (see `simVenueSymbols`). */
  readonly symbols: readonly string[];
  readonly seed: number;
  /** How long each reply waits after the venue acted on its request (0: at once). */
  readonly replyDelayMs: number;
  /** The price of every symbol moves once per tick. */
  readonly tickMs: number;
  /** Standard deviation of one tick's move, in basis points. */
  readonly volatilityBps: number;
  /** Called when the venue accepts a create that carries a client order id. */
  readonly onOrderCreated?: (clientOrderId: string) => void;
  /** Where the server says what it refused and why. */
  readonly log: (line: string) => void;
};

/**
 * Fast enough that a limit entry 0.1 % away, a take-profit 0.3 % away and a stop 0.6 % away are
 * all reached within seconds: one tick moves 10 bp (0.1 %) on average, ten ticks a second.
 */
export const serverDefaults = { tickMs: 100, volatilityBps: 10, replyDelayMs: 0 } as const;

/** Round start prices of the simulated instruments, near their levels of 2025. */
const startPrices: Readonly<Record<string, number>> = { BTCUSDT: 60_000, ETHUSDT: 3_000, SOLUSDT: 150, DOGEUSDT: 0.2 };
export const simVenueSymbols: readonly string[] = Object.keys(startPrices);

/** Bybit's linear fees (maker 0.02 %, taker 0.055 %) and partial fills, as the simulation has them. */
const venueTerms = { makerFeeRateE8: 20_000, takerFeeRateE8: 55_000, spreadTicks: 1, partialFillChance: 0.2, fillPartsMax: 3, limitPartialChance: 0.2 };

/** What may wait in memory for one slow stream client before it is dropped. */
const bufferBytesMax = 8 * 1024 * 1024;

type Peer = { readonly socket: Socket; readonly name: string; role: 'new' | 'requests' | 'closing' | StreamName };

export class SimVenueServer {
  private readonly options: SimVenueServerOptions;
  private readonly venue: SimVenue;
  private readonly feeds: readonly PriceWalk[];
  private readonly exposure = new ExposureMeter();
  private readonly peers = new Set<Peer>();
  private readonly replyTimers = new Set<NodeJS.Timeout>();
  private readonly server: Server;
  private ticker: NodeJS.Timeout | null = null;
  private pricesPaused = false;

  constructor(options: SimVenueServerOptions) {
    this.options = options;
    const rng = new Rng(options.seed);
    const instruments = options.symbols.map((symbol) => instrument(symbol));
    this.venue = new SimVenue({ ...venueTerms, instruments, rng: rng.fork() }, (fact) => this.publish(fact));
    this.feeds = instruments.map((traded) => new PriceWalk(traded, startTicks(traded), rng.fork(), options.volatilityBps));
    const nowMs = Date.now();
    for (const feed of this.feeds) this.venue.setPrice(nowMs, feed.symbol, feed.ticks);
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Listens on 127.0.0.1 (port 0: any free port) and starts the prices; resolves to the port. */
  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        const address = this.server.address();
        if (address === null || typeof address === 'string') {
          reject(new Error('venue server: not listening on TCP'));
          return;
        }
        this.ticker = setInterval(() => this.tick(), this.options.tickMs);
        resolve(address.port);
      });
    });
  }

  async close(): Promise<void> {
    if (this.ticker !== null) clearInterval(this.ticker);
    for (const timer of this.replyTimers) clearTimeout(timer);
    for (const peer of this.peers) peer.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The venue's ground truth now (what the `audit` request answers). */
  audit(): Audit {
    const nowMs = Date.now();
    return {
      atMs: nowMs,
      submissions: [...this.venue.submissions()],
      amendments: [...this.venue.amendments()],
      fills: [...this.venue.fills()],
      openOrders: this.venue.openOrders(),
      positions: this.venue.positions().map((position) => ({
        ...position, protected: this.venue.isProtected(position.symbol), unprotectedMsLongest: this.exposure.longestMs(position.symbol, nowMs),
      })),
    };
  }

  private tick(): void {
    if (this.pricesPaused) return;
    const nowMs = Date.now();
    for (const feed of this.feeds) this.venue.setPrice(nowMs, feed.symbol, feed.next());
    this.sample(nowMs);
  }

  /** Runs inside the venue's call: it only writes to sockets, never calls back into the venue. */
  private publish(fact: VenueFact): void {
    const event = streamEventOf(fact);
    const stream = streamOf(event);
    const line = encodeLine({ type: 'event', event });
    for (const peer of this.peers) {
      if (peer.role === stream) this.send(peer, line);
    }
  }

  private accept(socket: Socket): void {
    const peer: Peer = { socket, name: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, role: 'new' };
    this.peers.add(peer);
    socket.setNoDelay(true);
    // A peer that vanishes (a killed bot resets its connections) is a normal event; 'close' follows.
    socket.on('error', () => undefined);
    socket.on('close', () => this.peers.delete(peer));
    readLines(socket, (line) => this.onLine(peer, line), (reason) => this.refuse(peer, reason));
  }

  private onLine(peer: Peer, line: string): void {
    if (peer.role === 'closing') return;
    const decoded = decodeClientMessage(line);
    if (!decoded.ok) {
      this.refuse(peer, decoded.reason);
      return;
    }
    const { message } = decoded;
    switch (message.type) {
      case 'hello':
        if (peer.role !== 'new') return this.refuse(peer, `hello on a connection that is already ${peer.role}`);
        peer.role = message.stream;
        return this.send(peer, encodeLine({ type: 'subscribed', stream: message.stream }));
      case 'ping':
        if (peer.role !== 'private' && peer.role !== 'public') return this.refuse(peer, 'ping before hello: pings belong to a stream');
        return this.send(peer, encodeLine({ type: 'pong' }));
      case 'request': {
        if (!this.claimForRequests(peer)) return;
        const reply = this.execute(message.command);
        this.sample(Date.now());
        return this.reply(peer, encodeLine({ type: 'reply', id: message.id, reply }));
      }
      case 'audit':
        if (!this.claimForRequests(peer)) return;
        return this.send(peer, encodeLine({ type: 'audited', id: message.id, audit: this.audit() }));
      case 'pause-prices':
        if (!this.claimForRequests(peer)) return;
        this.pricesPaused = true;
        return this.send(peer, encodeLine({ type: 'prices-paused', id: message.id }));
    }
  }

  private claimForRequests(peer: Peer): boolean {
    if (peer.role === 'new') peer.role = 'requests';
    if (peer.role === 'requests') return true;
    this.refuse(peer, `a request on the ${peer.role} stream's connection`);
    return false;
  }

  /** What the venue's REST API answers, computed now (the reply may leave later). */
  private execute(command: VenueCommand): CommandReply {
    const nowMs = Date.now();
    const { venue } = this;
    if (command.type === 'FetchSnapshot') return this.snapshot(command, nowMs);
    const reply = answerOrderCommand(venue, nowMs, command);
    if (reply.type === 'OrderSubmitAcked') this.options.onOrderCreated?.(reply.clientOrderId);
    return reply;
  }

  /** The whole snapshot in one reply, read at one instant (src/sim/snapshots.ts pages it instead). */
  private snapshot(command: CommandOf<'FetchSnapshot'>, nowMs: number): CommandReply {
    const { venue } = this;
    return {
      type: 'SnapshotReceived', snapshotId: command.snapshotId, positions: venue.positionReports(), openOrders: venue.openOrders(),
      fills: venue.fills().filter((fill) => fill.venueMs >= command.fillsSinceMs), tickers: venue.tickers(nowMs), positionsVenueMs: nowMs,
      wallet: venue.wallet(nowMs),
    };
  }

  private reply(peer: Peer, line: string): void {
    if (this.options.replyDelayMs <= 0) {
      this.send(peer, line);
      return;
    }
    const timer = setTimeout(() => {
      this.replyTimers.delete(timer);
      this.send(peer, line);
    }, this.options.replyDelayMs);
    this.replyTimers.add(timer);
  }

  private send(peer: Peer, line: string): void {
    const { socket } = peer;
    if (socket.destroyed || peer.role === 'closing') return; // its bot is gone: nobody to tell
    if (socket.writableLength > bufferBytesMax) {
      this.refuse(peer, `more than ${bufferBytesMax} bytes waiting: the client does not read`);
      return;
    }
    socket.write(line);
  }

  /** Says why, then closes the connection; nothing more is read from it or sent to it. */
  private refuse(peer: Peer, reason: string): void {
    if (peer.role === 'closing') return;
    this.options.log(`venue: closing the connection of ${peer.name}: ${reason}`);
    peer.role = 'closing';
    peer.socket.end(encodeLine({ type: 'error', reason }), () => peer.socket.destroy());
  }

  /** Called after every change the server makes to the venue: exact, since nothing else changes it. */
  private sample(nowMs: number): void {
    this.exposure.sample(this.venue, this.feeds.map((feed) => feed.symbol), nowMs);
  }
}

function startTicks(traded: Instrument): number {
  const startPrice = startPrices[traded.symbol];
  if (startPrice === undefined) throw new Error(`venue server: no start price for ${traded.symbol}; known: ${simVenueSymbols.join(', ')}`);
  return priceToTicksRounded(traded, startPrice, 'nearest');
}
