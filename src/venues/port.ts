// The port between a live bot and a venue it trades on over the network: the instruments, a gateway
// for commands (whose outcomes come back as events through `deliver`), and the streams the
// supervisor keeps connected. Implemented by the Bybit adapter (ccxt, src/venues/bybit/live.ts)
// and by the simulated venue served over loopback (src/venues/sim/remote.ts), so `vigil run` wires
// either the same way.
//
// Invariants: every command given to the gateway ends in exactly one event (its reply, or an
// unknown outcome), never a resend; `start` rejects with a message an operator can act on
// (authentication, clock skew, an unknown symbol) before anything is sent.

import type { Instrument } from '../core/instrument.ts';
import type { Clock, Incoming, VenueGateway } from '../shell/ports.ts';
import type { StreamTransport } from '../shell/streams.ts';

export interface LiveVenue {
  /** Checks the connection and the credentials, and loads the symbols' instruments (tick, lot, minimums). */
  start(symbols: readonly string[]): Promise<readonly Instrument[]>;
  /**
   * The symbols' instruments as the venue lists them now, after the start: to see a change of tick
   * or lot, limits or delisting. A symbol it no longer lists as trading is left out.
   */
  readInstruments(symbols: readonly string[]): Promise<readonly Instrument[]>;
  readonly gateway: VenueGateway;
  readonly streams: StreamTransport;
  close(): Promise<void>;
}

export type LiveVenueDeps = {
  readonly clock: Clock;
  /** Replies and unknown outcomes of the gateway's commands. */
  readonly deliver: (incoming: Incoming) => void;
  readonly log: (line: string) => void;
  /** A request the venue refused for its rate, waiting `waitMs` before it goes again (a metric). */
  readonly onRateLimitWait?: (scope: string, waitMs: number) => void;
  /** A request that waited `waitedMs` in the adapter's own queue for its endpoint's limit before it left (a metric). */
  readonly onQueueWait?: (endpoint: string, waitedMs: number) => void;
};

export class VenueStartError extends Error {}
