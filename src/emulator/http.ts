// HTTP plumbing of the emulator's REST API: the raw body (bounded), the X-BAPI-* credentials, the
// path and raw query split once at the first "?", and the parameters of a GET query or a POST JSON
// body. The raw query and body are kept as received: the signature is checked against them.
//
// Invariants: a body beyond `bodyBytesMax` is never buffered; a POST body that is not a JSON
// object is refused with 10001.

import type { IncomingMessage } from 'node:http';
import type { RestCredentials } from './auth.ts';
import type { ParamSource } from './params.ts';
import { bodyParams, queryParams } from './params.ts';
import { RequestError, retCodes } from './replies.ts';

export const bodyBytesMax = 64 * 1024;

export function paramsOf(method: string, rawQuery: string, rawBody: string): ParamSource {
  if (method !== 'POST') return queryParams(new URLSearchParams(rawQuery));
  let body: unknown;
  try {
    body = rawBody === '' ? {} : JSON.parse(rawBody);
  } catch {
    throw new RequestError(retCodes.params, 'params error: the body is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new RequestError(retCodes.params, 'params error: the body must be a JSON object');
  return bodyParams(body as Readonly<Record<string, unknown>>);
}

export function credentialsOf(request: IncomingMessage): RestCredentials {
  const header = (name: string): string | undefined => {
    const value = request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  return { apiKey: header('x-bapi-api-key'), timestamp: header('x-bapi-timestamp'), recvWindow: header('x-bapi-recv-window'), sign: header('x-bapi-sign') };
}

/** The raw body as text, or null beyond `bodyBytesMax`. */
export function readBody(request: IncomingMessage, done: (body: string | null) => void): void {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let over = false;
  request.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > bodyBytesMax) over = true;
    else chunks.push(chunk);
  });
  request.on('end', () => done(over ? null : Buffer.concat(chunks).toString('utf8')));
  request.on('error', () => undefined);
}

export function splitOnce(text: string, separator: string): [string, string] {
  const index = text.indexOf(separator);
  return index < 0 ? [text, ''] : [text.slice(0, index), text.slice(index + 1)];
}

