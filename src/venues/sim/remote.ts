// The bot's side of the loopback protocol (wire.ts): `RemoteSimVenue`, a VenueGateway that sends
// commands over one request connection and delivers the venue's replies as events, and
// `RemoteSimStreams`, a StreamTransport with one connection per stream for the StreamSupervisor.
// Also the test-only control requests (`requestAudit`, `pausePrices`), each on its own connection.
//
// Invariants:
//  - every command sent ends in exactly one event: the venue's reply, or, when its connection dies
//    or no reply comes within `requestTimeoutMs`, the matching unknown outcome (OrderSubmitUnknown,
//    OrderCancelUnknown, OrderAmendUnknown, PositionStopUnknown, OrderQueryFailed, SnapshotFailed);
//    a command is never sent twice: the engine asks about an unknown order by its client order id
//    instead;
//  - a reply is delivered only if it answers its request (same command or snapshot id, a reply
//    type that command can have, the same client order id or symbol); one that comes after its
//    request was given up is dropped;
//  - a stream reports `onOpen` only once the server has acknowledged the subscription, only that
//    stream's events, and `onClose` at most once, never for a connection the supervisor closed;
//  - a line that does not decode closes its connection (and so fails what waited on it).

import type { Socket } from 'node:net';
import { createConnection } from 'node:net';
import type { StreamName } from '../../core/events.ts';
import type { Clock, Incoming, VenueCommand, VenueGateway } from '../../shell/ports.ts';
import { unknownOutcome } from '../../shell/ports.ts';
import type { StreamHandlers, StreamTransport } from '../../shell/streams.ts';
import { instrument } from '../../sim/instruments.ts';
import type { LiveVenue, LiveVenueDeps } from '../port.ts';
import { VenueStartError } from '../port.ts';
import { simVenueSymbols } from './server.ts';
import type { Audit, ClientMessage, CommandReply, ServerMessage } from './wire.ts';
import { decodeServerMessage, encodeLine, readLines, streamOf } from './wire.ts';

export type Endpoint = { readonly host: string; readonly port: number };

/** One request connection; `reason` is what its close will be blamed on. */
type RequestConnection = { readonly socket: Socket; reason: string };

type Pending = { readonly command: VenueCommand; readonly connection: RequestConnection };

export class RemoteSimVenue implements VenueGateway {
  private readonly endpoint: Endpoint;
  private readonly clock: Clock;
  private readonly deliver: (incoming: Incoming) => void;
  private readonly requestTimeoutMs: number;
  private readonly log: (line: string) => void;
  private readonly pending = new Map<number, Pending>();
  private connection: RequestConnection | null = null;
  private nextRequestId = 1;
  private closed = false;

  constructor(deps: {
    readonly endpoint: Endpoint; readonly clock: Clock; readonly deliver: (incoming: Incoming) => void;
    readonly requestTimeoutMs: number; readonly log: (line: string) => void;
  }) {
    this.endpoint = deps.endpoint;
    this.clock = deps.clock;
    this.deliver = deps.deliver;
    this.requestTimeoutMs = deps.requestTimeoutMs;
    this.log = deps.log;
  }

  /** Sends the command; `onWritten` runs once its bytes are handed to the operating system. */
  execute(command: VenueCommand, onWritten?: () => void): void {
    if (this.closed) return;
    const connection = this.connection ?? this.connect();
    const id = this.nextRequestId++;
    this.pending.set(id, { command, connection });
    connection.socket.write(encodeLine({ type: 'request', id, command }), (error) => {
      if (error === null || error === undefined) onWritten?.(); // a failed write ends in 'close'
    });
    this.clock.schedule(this.clock.nowMs() + this.requestTimeoutMs, () => this.giveUp(id, `no reply within ${this.requestTimeoutMs} ms`));
  }

  /** Shutdown: nothing more is sent or delivered. */
  close(): void {
    this.closed = true;
    this.pending.clear();
    this.connection?.socket.destroy();
    this.connection = null;
  }

  private connect(): RequestConnection {
    const socket = createConnection(this.endpoint);
    const connection: RequestConnection = { socket, reason: 'the venue closed the request connection' };
    this.connection = connection;
    socket.setNoDelay(true);
    socket.on('error', (error) => {
      connection.reason = `request connection failed: ${error.message}`;
    });
    socket.on('close', () => {
      if (this.connection === connection) this.connection = null;
      for (const [id, pending] of this.pending) {
        if (pending.connection === connection) this.giveUp(id, connection.reason);
      }
    });
    readLines(socket, (line) => this.onLine(connection, line), (reason) => this.drop(connection, reason));
    return connection;
  }

  private onLine(connection: RequestConnection, line: string): void {
    const decoded = decodeServerMessage(line);
    if (!decoded.ok) {
      this.drop(connection, `a reply that does not decode: ${decoded.reason}`);
      return;
    }
    const { message } = decoded;
    if (message.type === 'error') {
      connection.reason = `the venue refused a request: ${message.reason}`;
      return; // the venue closes the connection next
    }
    if (message.type !== 'reply') {
      this.drop(connection, `unexpected ${message.type} on the request connection`);
      return;
    }
    const pending = this.pending.get(message.id);
    if (pending === undefined) {
      this.log(`remote venue: a late reply to request ${message.id} (${message.reply.type}) dropped: its outcome was already given up as unknown`);
      return;
    }
    const mismatch = replyMismatch(pending.command, message.reply);
    if (mismatch !== null) {
      this.drop(connection, `reply ${message.id} does not answer its request: ${mismatch}`);
      return;
    }
    this.pending.delete(message.id);
    this.deliver(message.reply);
  }

  private drop(connection: RequestConnection, reason: string): void {
    this.log(`remote venue: closing the request connection: ${reason}`);
    connection.reason = reason;
    connection.socket.destroy();
  }

  /** The request's outcome is unknown: say so once; the engine asks, never resends. */
  private giveUp(id: number, reason: string): void {
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    this.pending.delete(id);
    this.deliver(unknownOutcome(pending.command, reason));
  }
}

/** The reply types each command can have. */
const repliesTo: Readonly<Record<VenueCommand['type'], readonly CommandReply['type'][]>> = {
  SubmitOrder: ['OrderSubmitAcked', 'OrderSubmitRejected'],
  CancelOrder: ['OrderCancelAcked', 'OrderCancelRejected'],
  AmendOrder: ['OrderAmendAcked', 'OrderAmendRejected'],
  SetPositionStop: ['PositionStopAcked', 'PositionStopRejected'],
  QueryOrder: ['OrderQueried'],
  FetchSnapshot: ['SnapshotReceived'],
};

/** Null when the reply answers the command; otherwise what is wrong with it. */
function replyMismatch(command: VenueCommand, reply: CommandReply): string | null {
  if (!repliesTo[command.type].includes(reply.type)) return `${reply.type} to a ${command.type}`;
  const sentId = command.type === 'FetchSnapshot' ? command.snapshotId : command.commandId;
  const answeredId = reply.type === 'SnapshotReceived' ? reply.snapshotId : reply.commandId;
  if (answeredId !== sentId) return `it answers ${answeredId}, the request was ${sentId}`;
  if ('clientOrderId' in command && 'clientOrderId' in reply && reply.clientOrderId !== command.clientOrderId) {
    return `it is about ${reply.clientOrderId}, the request about ${command.clientOrderId}`;
  }
  if (command.type === 'SetPositionStop' && 'symbol' in reply && reply.symbol !== command.symbol) {
    return `it is about ${reply.symbol}, the request about ${command.symbol}`;
  }
  return null;
}

type StreamConnection = {
  readonly socket: Socket;
  readonly stream: StreamName;
  readonly handlers: StreamHandlers;
  subscribed: boolean;
  closedByUs: boolean;
  reason: string;
};

export class RemoteSimStreams implements StreamTransport {
  private readonly endpoint: Endpoint;
  private readonly log: (line: string) => void;
  private readonly connections = new Map<number, StreamConnection>();

  constructor(deps: { readonly endpoint: Endpoint; readonly log: (line: string) => void }) {
    this.endpoint = deps.endpoint;
    this.log = deps.log;
  }

  open(stream: StreamName, connectionId: number, handlers: StreamHandlers): void {
    const socket = createConnection(this.endpoint);
    const connection: StreamConnection = { socket, stream, handlers, subscribed: false, closedByUs: false, reason: `the venue closed the ${stream} stream` };
    this.connections.set(connectionId, connection);
    socket.setNoDelay(true);
    socket.on('connect', () => socket.write(encodeLine({ type: 'hello', stream })));
    socket.on('error', (error) => {
      connection.reason = `${stream} stream connection failed: ${error.message}`;
    });
    socket.on('close', () => {
      this.connections.delete(connectionId);
      if (!connection.closedByUs) handlers.onClose(connection.reason);
    });
    readLines(socket, (line) => this.onLine(connection, line), (reason) => this.drop(connection, reason));
  }

  close(_stream: StreamName, connectionId: number): void {
    const connection = this.connections.get(connectionId);
    if (connection === undefined) return;
    connection.closedByUs = true;
    connection.socket.destroy();
  }

  ping(_stream: StreamName, connectionId: number): void {
    const connection = this.connections.get(connectionId);
    if (connection?.subscribed === true) connection.socket.write(encodeLine({ type: 'ping' }));
  }

  private onLine(connection: StreamConnection, line: string): void {
    const decoded = decodeServerMessage(line);
    if (!decoded.ok) {
      this.drop(connection, `a message that does not decode: ${decoded.reason}`);
      return;
    }
    const { message } = decoded;
    switch (message.type) {
      case 'subscribed':
        if (connection.subscribed || message.stream !== connection.stream) return this.drop(connection, `subscribed to ${message.stream} on the ${connection.stream} stream`);
        connection.subscribed = true;
        return connection.handlers.onOpen();
      case 'event':
        if (!connection.subscribed || streamOf(message.event) !== connection.stream) return this.drop(connection, `${message.event.type} on the ${connection.stream} stream`);
        return connection.handlers.onMessage(message.event);
      case 'pong':
        return connection.handlers.onMessage(null); // traffic: the stream is alive
      case 'error':
        connection.reason = `the venue closed the ${connection.stream} stream: ${message.reason}`;
        return;
      case 'reply':
      case 'audited':
      case 'prices-paused':
        return this.drop(connection, `unexpected ${message.type} on the ${connection.stream} stream`);
    }
  }

  private drop(connection: StreamConnection, reason: string): void {
    this.log(`remote venue: closing the ${connection.stream} stream: ${reason}`);
    connection.reason = reason;
    connection.socket.destroy();
  }
}

/** Test-only: the venue's ground truth, asked on a connection of its own. */
export function requestAudit(endpoint: Endpoint, timeoutMs = 10_000): Promise<Audit> {
  return askOnce(endpoint, { type: 'audit', id: 1 }, timeoutMs, (message) => (message.type === 'audited' ? message.audit : null));
}

/** Test-only: stops the venue's prices for good, so that nothing fills any more. */
export function pausePrices(endpoint: Endpoint, timeoutMs = 10_000): Promise<void> {
  return askOnce(endpoint, { type: 'pause-prices', id: 1 }, timeoutMs, (message) => (message.type === 'prices-paused' ? true : null)).then(() => undefined);
}

/** Sends one message on a new connection and resolves to the first answer `pick` accepts. */
function askOnce<T>(endpoint: Endpoint, message: ClientMessage, timeoutMs: number, pick: (message: ServerMessage) => T | null): Promise<T> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(endpoint);
    let failure = `the venue closed the connection before answering ${message.type}`;
    const timer = setTimeout(() => {
      failure = `no answer to ${message.type} within ${timeoutMs} ms`;
      socket.destroy();
    }, timeoutMs);
    socket.on('connect', () => socket.write(encodeLine(message)));
    socket.on('error', (error) => {
      failure = `${message.type}: ${error.message}`;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      reject(new Error(failure)); // a no-op once resolved
    });
    readLines(socket, (line) => {
      const decoded = decodeServerMessage(line);
      const answer = decoded.ok ? pick(decoded.message) : null;
      if (answer !== null) resolve(answer);
      else failure = decoded.ok ? `unexpected ${decoded.message.type} in answer to ${message.type}` : decoded.reason;
      socket.destroy();
    }, (reason) => {
      failure = reason;
      socket.destroy();
    });
  });
}

/** The simulated venue of another process (`vigil venue`) as a LiveVenue; its instruments are the simulation's table. */
export function loopbackSimVenue(endpoint: Endpoint, deps: LiveVenueDeps, requestTimeoutMs = 5_000): LiveVenue {
  const gateway = new RemoteSimVenue({ endpoint, clock: deps.clock, deliver: deps.deliver, requestTimeoutMs, log: deps.log });
  return {
    gateway,
    streams: new RemoteSimStreams({ endpoint, log: deps.log }),
    start: async (symbols) => {
      const unknown = symbols.filter((symbol) => !simVenueSymbols.includes(symbol));
      if (unknown.length > 0) throw new VenueStartError(`the simulated venue has no ${unknown.join(', ')}; it lists ${simVenueSymbols.join(', ')}`);
      // As the Bybit adapter asks for the server time: a venue not there is said at once, not after
      // a minute of reconnect alarms.
      await reachable(endpoint, requestTimeoutMs);
      return symbols.map((symbol) => instrument(symbol));
    },
    // The simulation's table: it never changes.
    readInstruments: (symbols) => Promise.resolve(symbols.map((symbol) => instrument(symbol))),
    close: () => {
      gateway.close();
      return Promise.resolve();
    },
  };
}

/** Resolves once a connection to the venue opens (and closes it); a VenueStartError saying why otherwise. */
function reachable(endpoint: Endpoint, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: endpoint.host, port: endpoint.port });
    const fail = (why: string): void => {
      socket.destroy();
      reject(new VenueStartError(`the simulated venue at ${endpoint.host}:${endpoint.port} could not be reached (${why}); is \`vigil venue --port ${endpoint.port}\` running?`));
    };
    socket.setTimeout(timeoutMs, () => fail(`no answer in ${timeoutMs} ms`));
    socket.once('error', (error: NodeJS.ErrnoException) => fail(error.code ?? error.message));
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
  });
}
