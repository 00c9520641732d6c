// A minimal Bybit v5 client for the emulator's tests: signed REST calls exactly as Bybit documents
// them (and as ccxt sends them), and a WebSocket that authenticates, subscribes and hands back the
// messages it receives, awaited by predicate (never by sleeping).

import { createHmac } from 'node:crypto';
import WebSocket from 'ws';

export type Keys = { readonly key: string; readonly secret: string };
export const testKeys: Keys = { key: 'testkey', secret: 'testsecret' };

export type Reply = {
  readonly status: number;
  readonly headers: Headers;
  readonly json: Record<string, unknown> & { retCode: number; retMsg: string; result: Record<string, unknown>; time: number };
};

export type SignOptions = { readonly keys?: Keys; readonly timestampMs?: number; readonly recvWindow?: string; readonly signature?: string; readonly signal?: AbortSignal };

export function sign(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

export async function publicGet(port: number, path: string, query: string): Promise<Reply> {
  const response = await fetch(`http://127.0.0.1:${port}${path}${query === '' ? '' : `?${query}`}`);
  return { status: response.status, headers: response.headers, json: (await response.json()) as Reply['json'] };
}

/** A signed GET: the signature covers the raw query string as sent. */
export async function signedGet(port: number, path: string, query: string, nowMs: number, options: SignOptions = {}): Promise<Reply> {
  const headers = signedHeaders(query, nowMs, options);
  const response = await fetch(`http://127.0.0.1:${port}${path}?${query}`, { headers, ...(options.signal === undefined ? {} : { signal: options.signal }) });
  return { status: response.status, headers: response.headers, json: (await response.json()) as Reply['json'] };
}

/** A signed POST: the signature covers the body text as sent. */
export async function signedPost(port: number, path: string, body: Record<string, unknown>, nowMs: number, options: SignOptions = {}): Promise<Reply> {
  const text = JSON.stringify(body);
  const headers = { ...signedHeaders(text, nowMs, options), 'Content-Type': 'application/json' };
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers, body: text, ...(options.signal === undefined ? {} : { signal: options.signal }) });
  const raw = await response.text();
  return { status: response.status, headers: response.headers, json: (raw.startsWith('{') ? JSON.parse(raw) : { retCode: -1, retMsg: raw, result: {}, time: 0 }) as Reply['json'] };
}

function signedHeaders(payload: string, nowMs: number, options: SignOptions): Record<string, string> {
  const keys = options.keys ?? testKeys;
  const timestamp = String(options.timestampMs ?? nowMs);
  const recvWindow = options.recvWindow ?? '5000';
  const signature = options.signature ?? sign(keys.secret, `${timestamp}${keys.key}${recvWindow}${payload}`);
  return { 'X-BAPI-API-KEY': keys.key, 'X-BAPI-TIMESTAMP': timestamp, 'X-BAPI-RECV-WINDOW': recvWindow, 'X-BAPI-SIGN': signature };
}

type Json = Record<string, unknown>;

/** A WebSocket whose every message is kept in order; `next` resolves with the earliest one not yet taken that matches. */
export class Stream {
  readonly messages: Json[] = [];
  private readonly socket: WebSocket;
  private readonly taken = new Set<number>();
  private waiters: { match: (message: Json) => boolean; resolve: (message: Json) => void }[] = [];
  readonly closed: Promise<void>;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as Json;
      this.messages.push(message);
      this.wake();
    });
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
  }

  static async open(port: number, path: string): Promise<Stream> {
    const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new Stream(socket);
  }

  /** Opens /v5/private, authenticates and subscribes to `topics`. */
  static async private(port: number, nowMs: number, topics: readonly string[], keys: Keys = testKeys): Promise<Stream> {
    const stream = await Stream.open(port, '/v5/private');
    const expires = String(nowMs + 10_000);
    stream.send({ op: 'auth', args: [keys.key, expires, sign(keys.secret, `GET/realtime${expires}`)] });
    const auth = await stream.next((message) => message.op === 'auth');
    if (auth.success !== true) throw new Error(`auth refused: ${JSON.stringify(auth)}`);
    stream.send({ op: 'subscribe', req_id: 1, args: topics });
    const ack = await stream.next((message) => message.op === 'subscribe');
    if (ack.success !== true) throw new Error(`subscribe refused: ${JSON.stringify(ack)}`);
    return stream;
  }

  send(message: Json): void {
    this.socket.send(JSON.stringify(message));
  }

  next(match: (message: Json) => boolean): Promise<Json> {
    return new Promise((resolve) => {
      this.waiters.push({ match, resolve });
      this.wake();
    });
  }

  /** Messages of a topic received so far. */
  topic(topic: string): Json[] {
    return this.messages.filter((message) => message.topic === topic);
  }

  close(): void {
    this.socket.close();
  }

  private wake(): void {
    const pending = this.waiters;
    this.waiters = [];
    for (const waiter of pending) {
      let found = false;
      for (let index = 0; index < this.messages.length; index += 1) {
        const message = this.messages[index];
        if (message !== undefined && !this.taken.has(index) && waiter.match(message)) {
          this.taken.add(index);
          waiter.resolve(message);
          found = true;
          break;
        }
      }
      if (!found) this.waiters.push(waiter);
    }
  }
}
