// Identifiers. A client order id is derived from state before any command leaves, so every venue
// event about an order is matched to its intent at once, even before the REST reply arrives.
//
// Format: `<botId>-<intentSeq>-<role><attempt?>`, e.g. `vg1-42-e`, `vg1-42-sl`, `vg1-42-x2`.
// Invariants: at most 36 characters of [A-Za-z0-9_-] (Bybit's orderLinkId limit, which Binance's
// newClientOrderId also accepts); an entry never has a second attempt (a resend could double it).

import { assert } from './assert.ts';

export type ClientOrderId = string & { readonly brand: 'ClientOrderId' };
export type VenueOrderId = string & { readonly brand: 'VenueOrderId' };
export type ExecutionId = string & { readonly brand: 'ExecutionId' };
export type IntentId = string & { readonly brand: 'IntentId' };

export type OrderRole = 'entry' | 'stop' | 'take-profit' | 'exit' | 'age-exit';

export const clientOrderIdLengthMax = 36;
export const botIdLengthMax = 16;
const clientOrderIdPattern = /^[A-Za-z0-9_-]{1,36}$/;
const botIdPattern = /^[A-Za-z0-9_]{1,16}$/;

const roleCodes: Readonly<Record<OrderRole, string>> = { entry: 'e', stop: 'sl', 'take-profit': 'tp', exit: 'x', 'age-exit': 'ag' };
const rolesByCode: ReadonlyMap<string, OrderRole> = new Map(
  Object.entries(roleCodes).map(([role, code]) => [code, role as OrderRole]),
);

export function isValidBotId(botId: string): boolean {
  return botIdPattern.test(botId);
}

export function isValidClientOrderId(text: string): boolean {
  return clientOrderIdPattern.test(text);
}

export function intentIdFor(botId: string, seq: number): IntentId {
  assert(isValidBotId(botId), `bad bot id: ${botId}`);
  assert(Number.isSafeInteger(seq) && seq > 0, `bad intent sequence: ${seq}`);
  return `${botId}-${seq}` as IntentId;
}

export function clientOrderIdFor(intentId: IntentId, role: OrderRole, attempt = 1): ClientOrderId {
  assert(attempt >= 1 && (role !== 'entry' || attempt === 1), `an entry has exactly one attempt: ${intentId}`);
  const id = `${intentId}-${roleCodes[role]}${attempt === 1 ? '' : String(attempt)}`;
  assert(isValidClientOrderId(id), `client order id out of the venue's limits: ${id}`);
  return id as ClientOrderId;
}

export type ParsedClientOrderId = { readonly intentId: IntentId; readonly role: OrderRole; readonly attempt: number };

/** Recognizes one of this bot's client order ids; anything else (another bot, a human) is null. */
export function parseClientOrderId(botId: string, text: string): ParsedClientOrderId | null {
  if (!text.startsWith(`${botId}-`)) return null;
  const match = /^(\d+)-([a-z]+)(\d*)$/.exec(text.slice(botId.length + 1));
  if (match === null) return null;
  const [, seq = '', code = '', attempt = ''] = match;
  const role = rolesByCode.get(code);
  if (role === undefined) return null;
  return { intentId: `${botId}-${seq}` as IntentId, role, attempt: attempt === '' ? 1 : Number(attempt) };
}
