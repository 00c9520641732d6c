// `vigil signal open|close ...`: sends one signal to a running bot's operator API (POST
// /api/signals, src/api/server.ts) and prints its answer. The token comes from the environment
// (VIGIL_API_TOKEN), never from a flag: a command line is visible to every user of the machine and
// lands in shell histories.
//
// Every signal carries an id: `--id` names it (repeat the command with the same id after a timeout,
// and the bot answers "duplicate: already handled" instead of opening twice); without one, a fresh
// id is made and printed, so a retry can still reuse it.
//
// `--plan JSON` carries the protection plan's per-signal overrides (takeProfits, trailing, aged, ...:
// the fields of a signal, README "The protection plan"); the stop may be left out when the bot's
// configuration has a plan with one for the symbol.
//
// Exit codes: 0 accepted (or a repeat of an accepted signal), 1 rejected or failed (refused by the
// bot's state, unauthorized, unreachable), 2 usage (bad flags, or fields the API found invalid).

import { randomBytes } from 'node:crypto';
import { apiPortDefault, apiTokenEnvDefault } from '../config/schema.ts';
import { parseFlags, UsageError } from './args.ts';

export const apiUrlVariable = 'VIGIL_API';
/** The plan fields `--plan` may give (a signal's overrides of the configured plan). */
const planKeys = ['stopLoss', 'stopTriggerBy', 'takeProfits', 'breakevenAfterFirstTarget', 'trailing', 'aged'] as const;

export const signalUsage = `usage: vigil signal open --symbol SYMBOL --side buy|sell (--quantity Q | --notional USDT)
                         [--stop-percent P | --stop-price X] [--take-profit-percent P | --take-profit-price X]
                         [--plan JSON] [--limit PRICE] [--id ID] [--api URL] [--json]
       vigil signal close --symbol SYMBOL [--id ID] [--api URL] [--json]
  open                 a position at market (or a limit entry with --limit), its stop-loss sent with it
  close                the symbol's position (or its resting entry) at market
  --quantity Q         size in the base coin (1.5 SOL); or --notional USDT: size in USDT at the entry price
  --stop-percent P     stop-loss P % from the entry; or --stop-price X (optional when the bot's protection plan has a stop)
  --take-profit-...    optional take-profit, as a percent from the entry or a price (replaces the plan's ladder)
  --plan JSON          overrides of the bot's protection plan for this signal, a JSON object of: ${planKeys.join(', ')}
                       e.g. '{"takeProfits":[{"percent":2,"sizePercent":50},{"percent":4,"sizePercent":50}],"trailing":null}'
  --id ID              the signal's id (default: a new one, printed); the same id again is a no-op
  --api URL            the bot's API (default: $${apiUrlVariable}, else http://127.0.0.1:${apiPortDefault})
  --json               print the API's answer as JSON
  the token is read from $${apiTokenEnvDefault}; exit code 0 accepted, 1 rejected or failed, 2 usage`;

const requestTimeoutMs = 10_000;
const openOnlyFlags = ['side', 'quantity', 'notional', 'stop-percent', 'stop-price', 'take-profit-percent', 'take-profit-price', 'plan', 'limit'] as const;

type Sent = { readonly status: number; readonly body: Record<string, unknown> };

/** `timeoutMs`: how long to wait for the API's answer (tests shorten it). */
export async function runSignalCommand(argv: readonly string[], { timeoutMs = requestTimeoutMs }: { readonly timeoutMs?: number } = {}): Promise<number> {
  const [action, ...rest] = argv;
  if (action === undefined || action === '--help' || action === '-h' || rest.includes('--help')) {
    console.log(signalUsage);
    return action === undefined ? 2 : 0;
  }
  if (action !== 'open' && action !== 'close') throw new UsageError(`signal: expected open or close, got "${action}"`);
  const values = parseFlags(rest, {
      symbol: { type: 'string' }, side: { type: 'string' }, quantity: { type: 'string' }, notional: { type: 'string' },
      'stop-percent': { type: 'string' }, 'stop-price': { type: 'string' }, 'take-profit-percent': { type: 'string' }, 'take-profit-price': { type: 'string' },
      plan: { type: 'string' }, limit: { type: 'string' }, id: { type: 'string' }, api: { type: 'string' }, json: { type: 'boolean', default: false },
    });
  if (values.symbol === undefined) throw new UsageError('--symbol is required');
  const id = values.id ?? `cli-${Date.now()}-${randomBytes(3).toString('hex')}`;
  const symbol = values.symbol.toUpperCase();
  if (action === 'close') {
    // A close takes the whole position: a --quantity meant to close part of it must not be dropped in silence.
    const given = openOnlyFlags.filter((flag) => values[flag] !== undefined);
    if (given.length > 0) throw new UsageError(`signal close: ${given.map((flag) => `--${flag}`).join(', ')} only apply to open (a close takes the whole position)`);
  }
  const body = action === 'close' ? { id, action, symbol } : { id, action, symbol, ...openFields(values) };
  const token = process.env[apiTokenEnvDefault];
  if (token === undefined || token === '') throw new UsageError(`the environment variable ${apiTokenEnvDefault} is not set (the bot's API token)`);
  const url = signalsUrl(values.api ?? process.env[apiUrlVariable] ?? `http://127.0.0.1:${apiPortDefault}`);
  let sent: Sent;
  try {
    sent = await post(url, token, body, timeoutMs);
  } catch (error) {
    // A timeout may come after the bot took the signal: the outcome is unknown, and only the same id makes a retry safe.
    if (error instanceof Error && error.name === 'TimeoutError') {
      console.error(`vigil signal: no answer from the API at ${url.origin} within ${timeoutMs / 1000} s: the signal may or may not have been taken (id ${id}; repeat with --id ${id})`);
      return 1;
    }
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    console.error(`vigil signal: cannot reach the API at ${url.origin}${cause || (error instanceof Error ? `: ${error.message}` : '')} (id ${id}; repeat with --id ${id})`);
    return 1;
  }
  console.log(values.json ? JSON.stringify(sent.body, null, 2) : describe(id, sent));
  if (sent.status === 200) return 0;
  return sent.status === 400 ? 2 : 1;
}

type OpenValues = {
  readonly side?: string | undefined; readonly quantity?: string | undefined; readonly notional?: string | undefined;
  readonly 'stop-percent'?: string | undefined; readonly 'stop-price'?: string | undefined;
  readonly 'take-profit-percent'?: string | undefined; readonly 'take-profit-price'?: string | undefined; readonly limit?: string | undefined;
  readonly plan?: string | undefined;
};

/** The open signal's fields from the flags; the API checks the plan's values and names any that is wrong. */
export function openFields(values: OpenValues): Record<string, unknown> {
  if (values.side === undefined) throw new UsageError('--side buy|sell is required to open');
  // Upper case accepted, as --symbol's is; anything else named as given.
  const side = values.side.toLowerCase();
  if (side !== 'buy' && side !== 'sell') throw new UsageError(`--side: expected buy or sell, got "${values.side}"`);
  const size = exactlyOne('--quantity or --notional', { quantity: values.quantity, notional: values.notional });
  const stopLoss = priceOrPercent('--stop-percent or --stop-price', values['stop-percent'], values['stop-price']);
  const takeProfit = priceOrPercent('--take-profit-percent or --take-profit-price', values['take-profit-percent'], values['take-profit-price']);
  const plan = values.plan === undefined ? {} : planOf(values.plan);
  if (stopLoss !== null && 'stopLoss' in plan) throw new UsageError('the stop is given twice: by --stop-percent/--stop-price and in --plan');
  return {
    side, ...size, ...(stopLoss === null ? {} : { stopLoss }), ...(takeProfit === null ? {} : { takeProfit }), ...plan,
    entry: values.limit === undefined ? { kind: 'market' } : { kind: 'limit', price: values.limit },
  };
}

function planOf(text: string): Record<string, unknown> {
  let plan: unknown;
  try {
    plan = JSON.parse(text);
  } catch {
    throw new UsageError('--plan: expected a JSON object, such as \'{"trailing":null}\'');
  }
  if (typeof plan !== 'object' || plan === null || Array.isArray(plan)) throw new UsageError('--plan: expected a JSON object, such as \'{"trailing":null}\'');
  const unknown = Object.keys(plan).filter((key) => !planKeys.some((known) => known === key));
  if (unknown.length > 0) throw new UsageError(`--plan: unknown field(s) ${unknown.join(', ')} (expected: ${planKeys.join(', ')})`);
  return plan as Record<string, unknown>;
}

function exactlyOne(what: string, options: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const given = Object.entries(options).filter((entry): entry is [string, string] => entry[1] !== undefined);
  if (given.length !== 1) throw new UsageError(`expected exactly one of ${what}`);
  return Object.fromEntries(given);
}

function priceOrPercent(what: string, percent: string | undefined, price: string | undefined): { price: string } | { percent: number } | null {
  if (percent !== undefined && price !== undefined) throw new UsageError(`expected one of ${what}, not both`);
  if (price !== undefined) return { price };
  if (percent === undefined) return null;
  const value = Number(percent);
  if (percent.trim() === '' || !Number.isFinite(value)) throw new UsageError(`${what}: expected a number, got "${percent}"`);
  return { percent: value };
}

function signalsUrl(base: string): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(`--api (or $${apiUrlVariable}): expected a URL such as http://127.0.0.1:${apiPortDefault}`);
  }
  // The URL is not quoted back: it may carry a password, and the token goes in the environment, not in the URL.
  if (url.username !== '' || url.password !== '') throw new UsageError(`--api (or $${apiUrlVariable}): a user name or password in the URL is refused (the token is read from $${apiTokenEnvDefault})`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--api (or $${apiUrlVariable}): expected an http:// or https:// URL, got ${url.protocol}`);
  return new URL(`${url.pathname.replace(/\/+$/, '')}/api/signals`, url);
}

async function post(url: URL, token: string, body: unknown, timeoutMs: number): Promise<Sent> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { error: text.slice(0, 500) };
  }
  return { status: response.status, body: typeof parsed === 'object' && parsed !== null ? parsed as Record<string, unknown> : { error: String(parsed) } };
}

/** One line for a person: what became of the signal, and its id (to repeat it safely). */
function describe(id: string, sent: Sent): string {
  const { status, body } = sent;
  const text = (key: string): string => (typeof body[key] === 'string' ? body[key] : '');
  const dryRun = body.dryRun === true ? ' [dry run: no order is sent]' : '';
  switch (body.result) {
    case 'accepted':
      return `accepted: ${text('outcome')} (id ${id})${dryRun}`;
    case 'rejected':
      return `rejected (${status}): ${text('reason')} (id ${id})`;
    case 'duplicate':
      return `duplicate: already handled (id ${id}): ${text('outcome')}`;
    default: {
      const reasons = Array.isArray(body.reasons) ? body.reasons.map((reason) => `\n  ${String(reason)}`).join('') : '';
      return `error (${status}): ${text('error')} (id ${id})${reasons}`;
    }
  }
}
