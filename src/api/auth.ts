// The API's one credential: a bearer token from the environment (`Authorization: Bearer <token>`).
//
// Invariants: the comparison takes the same time whatever the candidate is (both sides are hashed
// to 32 bytes first, then compared with crypto.timingSafeEqual, so neither the length nor the first
// differing byte shows in the timing); the token is never logged, echoed or put in a message.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../config/secret.ts';

export type AuthResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export class BearerAuth {
  private readonly digest: Buffer;

  constructor(token: Secret) {
    this.digest = sha256(token.reveal());
  }

  check(header: string | undefined): AuthResult {
    if (header === undefined || header === '') return { ok: false, reason: 'missing Authorization: Bearer <token>' };
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (match === null) return { ok: false, reason: 'expected Authorization: Bearer <token>' };
    return timingSafeEqual(sha256(match[1] ?? ''), this.digest) ? { ok: true } : { ok: false, reason: 'wrong token' };
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The webhook's credential: a shared secret sent in the body or a header (TradingView cannot send
 * an Authorization header). Compared the same way as the token: hashed, then in constant time.
 */
export class SharedSecret {
  private readonly digest: Buffer;

  constructor(secret: Secret) {
    this.digest = sha256(secret.reveal());
  }

  /** Whether `candidate` is the secret; anything that is not a non-empty string is not. */
  matches(candidate: unknown): boolean {
    if (typeof candidate !== 'string' || candidate === '') return false;
    return timingSafeEqual(sha256(candidate), this.digest);
  }
}
