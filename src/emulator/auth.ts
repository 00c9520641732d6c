// Bybit v5 authentication as the venue checks it, for the emulator: the HMAC-SHA256 signature of a
// private REST request (headers X-BAPI-*) and of the private WebSocket's `auth` op.
//
// REST: sign = hex HMAC-SHA256(secret, timestamp + apiKey + recvWindow + X), X the raw query
// string (GET) or the raw body (POST) exactly as received: never a re-serialisation, so a client
// that signs one string and sends another is refused, as on Bybit. The time rule is Bybit's:
// server_time - recv_window <= timestamp < server_time + 1000, on the server's clock.
// WebSocket: args [apiKey, expires, hex HMAC-SHA256(secret, "GET/realtime" + expires)], with
// expires (ms, a string or a number) still in the future.
//
// Invariants: pure functions of their inputs (the clock arrives as `nowMs`); signatures are compared
// in constant time; a refusal names Bybit's code and text.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { retCodes } from './replies.ts';

export type ApiSecrets = ReadonlyMap<string, string>;

export type RestCredentials = {
  readonly apiKey: string | undefined;
  readonly timestamp: string | undefined;
  readonly recvWindow: string | undefined;
  readonly sign: string | undefined;
};

export type AuthResult =
  | { readonly ok: true; readonly apiKey: string }
  | { readonly ok: false; readonly retCode: number; readonly retMsg: string };

/** Bybit's default when X-BAPI-RECV-WINDOW is absent. */
export const recvWindowDefaultMs = 5000;
/** How far ahead of the server's clock a timestamp may be (Bybit: 1 s). */
const futureToleranceMs = 1000;

export function hmacHex(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

export function verifyRest(credentials: RestCredentials, payload: string, secrets: ApiSecrets, nowMs: number): AuthResult {
  const { apiKey, timestamp, sign } = credentials;
  const secret = apiKey === undefined ? undefined : secrets.get(apiKey);
  if (apiKey === undefined || secret === undefined) return { ok: false, retCode: retCodes.apiKey, retMsg: 'API key is invalid.' };
  const recvWindow = credentials.recvWindow ?? String(recvWindowDefaultMs);
  const timestampMs = wholeNumber(timestamp);
  const recvWindowMs = wholeNumber(recvWindow);
  if (timestampMs === null || recvWindowMs === null || nowMs - recvWindowMs > timestampMs || timestampMs >= nowMs + futureToleranceMs) {
    return {
      ok: false, retCode: retCodes.timestamp,
      retMsg: `invalid request, please check your server timestamp or recv_window param. req_timestamp[${timestamp ?? ''}],server_timestamp[${nowMs}],recv_window[${recvWindow}]`,
    };
  }
  const origin = `${timestamp ?? ''}${apiKey}${recvWindow}${payload}`;
  if (sign === undefined || !sameHex(sign, hmacHex(secret, origin))) {
    return { ok: false, retCode: retCodes.sign, retMsg: `error sign! origin_string[${origin}]` };
  }
  return { ok: true, apiKey };
}

export type StreamAuthResult = { readonly ok: true; readonly apiKey: string } | { readonly ok: false; readonly reason: string };

/** The private WebSocket's `auth` op; the reason of a refusal is for the log (the reply says only "Params Error"). */
export function verifyStreamAuth(args: unknown, secrets: ApiSecrets, nowMs: number): StreamAuthResult {
  if (!Array.isArray(args) || args.length !== 3) return { ok: false, reason: 'args must be [apiKey, expires, signature]' };
  const [apiKey, expires, signature] = args as readonly unknown[];
  if (typeof apiKey !== 'string' || typeof signature !== 'string') return { ok: false, reason: 'apiKey and signature must be strings' };
  // ccxt sends expires as a string, Bybit's own examples as a number: the signed text is its digits either way.
  const expiresText = typeof expires === 'number' ? String(expires) : typeof expires === 'string' ? expires : '';
  const expiresMs = wholeNumber(expiresText);
  if (expiresMs === null) return { ok: false, reason: 'expires must be a time in ms' };
  if (expiresMs <= nowMs) return { ok: false, reason: `expired: ${expiresMs} <= server time ${nowMs}` };
  const secret = secrets.get(apiKey);
  if (secret === undefined) return { ok: false, reason: `unknown api key ${apiKey}` };
  if (!sameHex(signature, hmacHex(secret, `GET/realtime${expiresText}`))) return { ok: false, reason: 'bad signature' };
  return { ok: true, apiKey };
}

function wholeNumber(text: string | undefined): number | null {
  if (text === undefined || !/^\d{1,16}$/.test(text)) return null;
  return Number(text);
}

function sameHex(given: string, expected: string): boolean {
  const givenBytes = Buffer.from(given.toLowerCase(), 'utf8');
  const expectedBytes = Buffer.from(expected, 'utf8');
  return givenBytes.length === expectedBytes.length && timingSafeEqual(givenBytes, expectedBytes);
}
