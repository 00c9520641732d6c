// The stream supervisor: keeps the venue's private and public WebSocket streams connected and says
// so to the engine. It opens each stream, forwards what arrives, and when a stream closes, or goes
// silent (a stall: no message and no pong for `stallMs`, checked every `heartbeatMs`), it tells the
// engine the stream is down and reconnects after a backoff with jitter, bounded by `backoffMsMax`.
// The backoff starts again only after a connection that stayed up for `stableMs`: one that drops
// soon after subscribing counts as failed, or a venue that closes every connection at once would
// be dialled (and snapshotted after) several times a second.
// The engine reacts to StreamConnected / StreamDisconnected: snapshot, reconcile, gate entries.
//
// Invariants: at most one live connection per stream; a message from a connection that is no
// longer current is dropped (it is not what the engine was told about); the supervisor never
// gives up reconnecting (it raises an alarm every `attemptsPerAlarm` failed attempts).

import type { Notice } from '../core/commands.ts';
import type { StreamName } from '../core/events.ts';
import { readsBeforeHeldUpTimers } from './clock.ts';
import type { Clock, Incoming } from './ports.ts';

export type StreamHandlers = {
  /** Connected, authenticated and subscribed: from now on the stream's messages are live. */
  onOpen(): void;
  onClose(reason: string): void;
  /** A venue message decoded into an event, or null for a pong (traffic all the same). */
  onMessage(incoming: Incoming | null): void;
};

/** How a supervisor reaches a venue's streams: real WebSockets, or the simulation's. */
export interface StreamTransport {
  open(stream: StreamName, connectionId: number, handlers: StreamHandlers): void;
  close(stream: StreamName, connectionId: number): void;
  ping(stream: StreamName, connectionId: number): void;
}

export type SupervisorConfig = {
  readonly heartbeatMs: number;
  readonly stallMs: number;
  readonly connectTimeoutMs: number;
  readonly backoffMs: number;
  readonly backoffMsMax: number;
  readonly attemptsPerAlarm: number;
  /** How long a connection must stay up for its end to start the backoff again (a shorter one counts as a failed attempt). */
  readonly stableMs: number;
};

export const supervisorDefaults: SupervisorConfig = {
  heartbeatMs: 2_000, stallMs: 6_000, connectTimeoutMs: 10_000, backoffMs: 250, backoffMsMax: 10_000, attemptsPerAlarm: 10, stableMs: 30_000,
};

type Connection = { readonly id: number; status: 'opening' | 'up'; lastTrafficMs: number; upSinceMs: number | null };

export const streamNames: readonly StreamName[] = ['private', 'public'];

export class StreamSupervisor {
  private readonly clock: Clock;
  private readonly transport: StreamTransport;
  private readonly random: () => number;
  private readonly config: SupervisorConfig;
  private readonly report: (incoming: Incoming) => void;
  private readonly onNotice: (notice: Notice) => void;
  private readonly connections = new Map<StreamName, Connection>();
  private readonly failedAttempts = new Map<StreamName, number>();
  private nextConnectionId = 1;
  private stopped = false;

  constructor(deps: {
    clock: Clock; transport: StreamTransport; random: () => number; config?: Partial<SupervisorConfig>;
    report: (incoming: Incoming) => void; onNotice?: (notice: Notice) => void;
  }) {
    // A heartbeat held up by a frozen process reads what waited in the sockets before it judges them silent.
    this.clock = readsBeforeHeldUpTimers(deps.clock);
    this.transport = deps.transport;
    this.random = deps.random;
    this.config = { ...supervisorDefaults, ...deps.config };
    this.report = deps.report;
    this.onNotice = deps.onNotice ?? (() => undefined);
  }

  start(): void {
    for (const stream of streamNames) this.connect(stream);
  }

  /** Closes every stream for good (shutdown, or a simulated crash). */
  stop(): void {
    this.stopped = true;
    for (const [stream, connection] of this.connections) this.transport.close(stream, connection.id);
    this.connections.clear();
  }

  status(stream: StreamName): 'down' | 'opening' | 'up' {
    return this.connections.get(stream)?.status ?? 'down';
  }

  private connect(stream: StreamName): void {
    if (this.stopped) return;
    const connection: Connection = { id: this.nextConnectionId++, status: 'opening', lastTrafficMs: this.clock.nowMs(), upSinceMs: null };
    this.connections.set(stream, connection);
    this.transport.open(stream, connection.id, {
      onOpen: () => this.onOpen(stream, connection),
      onClose: (reason) => this.onClosed(stream, connection, reason),
      onMessage: (incoming) => this.onMessage(stream, connection, incoming),
    });
    this.clock.schedule(this.clock.nowMs() + this.config.connectTimeoutMs, () => {
      if (this.isCurrent(stream, connection) && connection.status === 'opening') this.drop(stream, connection, `no subscription within ${this.config.connectTimeoutMs} ms`);
    });
  }

  private onOpen(stream: StreamName, connection: Connection): void {
    if (!this.isCurrent(stream, connection) || connection.status !== 'opening') return;
    connection.status = 'up';
    connection.lastTrafficMs = this.clock.nowMs();
    connection.upSinceMs = this.clock.nowMs();
    this.report({ type: 'StreamConnected', stream });
    this.scheduleHeartbeat(stream, connection);
  }

  private onMessage(stream: StreamName, connection: Connection, incoming: Incoming | null): void {
    if (!this.isCurrent(stream, connection) || connection.status !== 'up') return;
    connection.lastTrafficMs = this.clock.nowMs();
    if (incoming !== null) this.report(incoming);
  }

  private onClosed(stream: StreamName, connection: Connection, reason: string): void {
    if (this.isCurrent(stream, connection)) this.lost(stream, connection, reason);
  }

  private scheduleHeartbeat(stream: StreamName, connection: Connection): void {
    this.clock.schedule(this.clock.nowMs() + this.config.heartbeatMs, () => {
      if (!this.isCurrent(stream, connection) || connection.status !== 'up') return;
      const silentMs = this.clock.nowMs() - connection.lastTrafficMs;
      if (silentMs > this.config.stallMs) {
        this.drop(stream, connection, `stalled: no message or pong for ${silentMs} ms`);
        return;
      }
      this.transport.ping(stream, connection.id);
      this.scheduleHeartbeat(stream, connection);
    });
  }

  /** We give up on a connection: close it, then treat it as lost. */
  private drop(stream: StreamName, connection: Connection, reason: string): void {
    this.transport.close(stream, connection.id);
    this.lost(stream, connection, reason);
  }

  private lost(stream: StreamName, connection: Connection, reason: string): void {
    this.connections.delete(stream);
    if (connection.status === 'up') this.report({ type: 'StreamDisconnected', stream, reason });
    const stable = connection.upSinceMs !== null && this.clock.nowMs() - connection.upSinceMs >= this.config.stableMs;
    const attempts = (stable ? 0 : this.failedAttempts.get(stream) ?? 0) + 1;
    this.failedAttempts.set(stream, attempts);
    if (attempts % this.config.attemptsPerAlarm === 0) {
      this.onNotice({
        level: 'alarm', code: 'stream-unreachable', symbol: null,
        text: `${stream} stream: ${attempts} connections in a row failed or dropped within ${this.config.stableMs / 1_000} s (${reason}); still trying`,
      });
    }
    const delayMs = this.backoffMs(attempts);
    this.clock.schedule(this.clock.nowMs() + delayMs, () => this.connect(stream));
  }

  /** Exponential, capped, with jitter: half the delay fixed, half random (no reconnect storms). */
  private backoffMs(attempts: number): number {
    const { backoffMs, backoffMsMax } = this.config;
    const ceiling = Math.min(backoffMsMax, backoffMs * 2 ** Math.min(attempts - 1, 20));
    return Math.round(ceiling / 2 + (ceiling / 2) * this.random());
  }

  private isCurrent(stream: StreamName, connection: Connection): boolean {
    return !this.stopped && this.connections.get(stream) === connection;
  }
}
