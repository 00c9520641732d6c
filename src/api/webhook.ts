// POST /webhook: signals in the style of TradingView alerts. TradingView posts the alert's message
// as the body and cannot send an Authorization header, so the webhook has a credential of its own:
// a shared secret (from the environment variable `api.webhook.secretEnv`) sent as `"secret"` in
// the JSON body or in an `X-Vigil-Secret` header. A payload:
//
//   {"secret": "...", "id": "{{strategy.order.id}}-{{timenow}}", "symbol": "{{ticker}}" (BYBIT:SOLUSDT.P),
//    "action": "buy" | "sell" | "close", "quantity": "{{strategy.order.contracts}}" or "notional": "100",
//    "entry"?: {"kind": "limit", "price": "..."}, plan overrides as in a signal (signals.ts)}
//
// `buy` and `sell` open a long or a short, `close` closes the symbol's position; TradingView's
// tickers are read as the venue's symbols (`BYBIT:` and any other exchange prefix dropped, the
// perpetual's `.P` suffix too). Everything else is a signal of the API (signals.ts), with request
// id `tv:<id>`, its own namespace.
//
// Invariants: the secret is checked before anything is read from the payload, so a caller without
// it learns nothing (not whether an id was seen, not whether the payload was valid); it is taken out
// of the payload before the payload is read, so it can never reach a reason, a log line, the
// journal or an answer.

import type { SignalContext, SignalParse } from './signals.ts';
import { parseSignal } from './signals.ts';

export const webhookPath = '/webhook';
export const webhookSecretHeader = 'x-vigil-secret';

/** The venue's symbol of a TradingView ticker: `BYBIT:BTCUSDT.P` is BTCUSDT. */
export function normalizeTicker(ticker: string): string {
  return ticker.trim().toUpperCase().replace(/^[A-Z0-9_]+:/, '').replace(/\.P$/, '');
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The secrets a request offers (header, body) and the payload without its own. */
export function splitSecret(body: unknown, header: string | readonly string[] | undefined): { readonly offered: readonly unknown[]; readonly payload: unknown } {
  const offered: unknown[] = header === undefined ? [] : [typeof header === 'string' ? header : null];
  if (!isRecord(body) || !('secret' in body)) return { offered, payload: body };
  const { secret, ...payload } = body;
  return { offered: [...offered, secret], payload };
}

const actions = ['buy', 'sell', 'close'] as const;

/** An alert's payload (its secret already taken out) as a signal, or the reasons it is not one. */
export function parseWebhookSignal(payload: unknown, context: SignalContext): SignalParse {
  if (!isRecord(payload)) return { ok: false, reasons: ['(body): expected a JSON object'] };
  const { action, symbol, side, ...rest } = payload;
  const reasons: string[] = [];
  if (side !== undefined) reasons.push('side: unknown field (the action says it: buy or sell)');
  if (action === undefined) reasons.push(`action: required (expected one of ${actions.join(', ')})`);
  else if (!actions.some((known) => known === action)) reasons.push(`action: expected one of ${actions.join(', ')}`);
  if (symbol === undefined) reasons.push('symbol: required (a TradingView ticker such as BYBIT:SOLUSDT.P, or the symbol)');
  else if (typeof symbol !== 'string') reasons.push('symbol: expected text: a TradingView ticker such as BYBIT:SOLUSDT.P, or the symbol');
  if (reasons.length > 0 || typeof symbol !== 'string') return { ok: false, reasons };
  const body = action === 'close'
    ? { ...rest, action: 'close', symbol: normalizeTicker(symbol) }
    : { ...rest, action: 'open', side: action, symbol: normalizeTicker(symbol) };
  return parseSignal(body, context, 'webhook');
}
