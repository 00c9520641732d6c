// The simulated venue's WebSocket streams, as a transport for the stream supervisor: connections
// that open after a setup delay, carry the venue's pushes with the network's latency, answer pings,
// and fail as the seed says: reset (closed, and the bot is told), or stalled (silent: nothing
// arrives and nothing is said; only the supervisor's heartbeat notices). A message sent while its
// connection is not up is lost on the wire, as on a real socket: the bot must recover it from a
// snapshot. What reaches a connection while the bot's process is frozen waits in its socket: the
// bot reads it when the process thaws, unless it has closed that connection by then.

import type { StreamName } from '../core/events.ts';
import type { Incoming } from '../shell/ports.ts';
import type { StreamHandlers, StreamTransport } from '../shell/streams.ts';
import type { Network } from './network.ts';
import type { Scheduler } from './scheduler.ts';

/** `closedByBot`: the bot closed it (or its process died): what waited in its socket is never read. */
type Connection = { readonly id: number; readonly stream: StreamName; state: 'opening' | 'up' | 'stalled' | 'closed'; closedByBot: boolean; readonly handlers: StreamHandlers };

export class SimStreams implements StreamTransport {
  private readonly scheduler: Scheduler;
  private readonly network: Network;
  private readonly note: (text: string) => void;
  /** Runs what the bot's process does with what reached its socket: now, or when it thaws (see SimWorld.inProcess). */
  private readonly inProcess: (run: () => void) => void;
  private readonly current = new Map<StreamName, Connection>();
  /** Whether the private stream has been up since the bot's process started (ground truth). */
  privateUpSinceStart = false;

  constructor(scheduler: Scheduler, network: Network, note: (text: string) => void, inProcess: (run: () => void) => void = (run) => run()) {
    this.scheduler = scheduler;
    this.network = network;
    this.note = note;
    this.inProcess = inProcess;
  }

  /** What reached a connection's socket, handled by the bot's process (at once, or when it thaws). */
  private read(connection: Connection, handle: () => void, onLost: () => void = () => undefined): void {
    this.inProcess(() => {
      if (connection.closedByBot) {
        onLost();
        return;
      }
      handle();
    });
  }

  open(stream: StreamName, connectionId: number, handlers: StreamHandlers): void {
    const connection: Connection = { id: connectionId, stream, state: 'opening', closedByBot: false, handlers };
    this.current.set(stream, connection);
    this.scheduler.schedule(this.scheduler.nowMs() + this.network.latency(this.network.config.streamSetup), () => {
      if (connection.state !== 'opening') return;
      connection.state = 'up';
      if (stream === 'private') this.privateUpSinceStart = true;
      this.note(`stream ${stream} #${connectionId} subscribed`);
      this.read(connection, () => handlers.onOpen());
    });
  }

  close(stream: StreamName, connectionId: number): void {
    const connection = this.current.get(stream);
    if (connection?.id !== connectionId) return;
    connection.state = 'closed';
    connection.closedByBot = true;
  }

  ping(stream: StreamName, connectionId: number): void {
    const connection = this.current.get(stream);
    if (connection?.id !== connectionId || connection.state !== 'up') return;
    const latency = stream === 'private' ? this.network.config.privateStream : this.network.config.publicStream;
    const roundTripMs = this.network.latency(latency) + this.network.latency(latency);
    this.scheduler.schedule(this.scheduler.nowMs() + roundTripMs, () => {
      if (connection.state === 'up') this.read(connection, () => connection.handlers.onMessage(null));
    });
  }

  isUp(stream: StreamName): boolean {
    return this.current.get(stream)?.state === 'up';
  }

  /**
   * Sends a venue push; `onDelivered` runs after the bot has applied it, once per copy delivered.
   * Returns how many copies are on their way; `onArrived` runs once for each at its time, whether
   * it was delivered or the connection had gone meanwhile (lost).
   */
  send(stream: StreamName, incoming: Incoming, delays: readonly number[], text: string, onDelivered: () => void, onArrived: () => void = () => undefined): number {
    const connection = this.current.get(stream);
    if (connection?.state !== 'up') {
      this.network.counts.lostOnWire += 1;
      return 0;
    }
    for (const delay of delays) {
      this.scheduler.schedule(this.scheduler.nowMs() + delay, () => {
        onArrived();
        if (connection.state !== 'up') {
          this.network.counts.lostOnWire += 1;
          return;
        }
        this.read(connection, () => {
          this.note(text);
          connection.handlers.onMessage(incoming);
          onDelivered();
        }, () => {
          this.network.counts.lostOnWire += 1;
        });
      });
    }
    return delays.length;
  }

  /** Schedules the seed's stream faults until `untilMs` (they stop when the network heals). */
  scheduleFaults(untilMs: number): void {
    for (const stream of ['private', 'public'] as const) this.scheduleFault(stream, this.scheduler.nowMs(), untilMs);
  }

  private scheduleFault(stream: StreamName, fromMs: number, untilMs: number): void {
    const atMs = this.network.nextStreamFaultAt(fromMs);
    if (atMs === null || atMs > untilMs) return;
    this.scheduler.schedule(atMs, () => {
      if (this.network.config.faults.streamFaultEveryMs <= 0) return; // healed
      this.fail(stream);
      this.scheduleFault(stream, atMs, untilMs);
    });
  }

  private fail(stream: StreamName): void {
    this.fault(stream, this.network.streamFaultIsStall() ? 'stall' : 'reset');
  }

  /** A stream fault now: `reset` closes the connection (the bot is told), `stall` silences it. */
  fault(stream: StreamName, kind: 'reset' | 'stall'): void {
    const connection = this.current.get(stream);
    if (connection?.state !== 'up') return;
    if (kind === 'stall') {
      connection.state = 'stalled';
      this.network.counts.streamStalls += 1;
      this.note(`fault: stream ${stream} #${connection.id} stalls silently`);
      return;
    }
    connection.state = 'closed';
    this.network.counts.streamResets += 1;
    this.note(`fault: stream ${stream} #${connection.id} reset`);
    const detectMs = this.network.latency(stream === 'private' ? this.network.config.privateStream : this.network.config.publicStream);
    this.scheduler.schedule(this.scheduler.nowMs() + detectMs, () => this.read(connection, () => connection.handlers.onClose('connection reset by the venue')));
  }

  /** A process crash: every connection gone at once, nobody told. */
  dropAll(): void {
    for (const connection of this.current.values()) {
      connection.state = 'closed';
      connection.closedByBot = true;
    }
    this.privateUpSinceStart = false;
  }
}
