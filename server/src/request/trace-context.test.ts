import { describe, expect, it } from 'vitest';
import { continueTrace, newRequestId, requestIdFrom } from './trace-context.ts';

describe('request ids', () => {
  it('are req_ and 24 hex digits, the first twelve the time in ms', () => {
    const id = newRequestId(Date.UTC(2026, 10, 27));
    expect(id).toMatch(/^req_[0-9a-f]{24}$/);
    expect(Number.parseInt(id.slice(4, 16), 16)).toBe(Date.UTC(2026, 10, 27));
  });

  it('sort in the order they were made, so the ledger index grows at its end', () => {
    const start = Date.UTC(2026, 10, 27);
    const ids = Array.from({ length: 200 }, (_, i) => newRequestId(start + i * 7));
    expect([...ids].sort()).toEqual(ids);
  });

  it('differ within the same millisecond', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newRequestId(1_800_000_000_000)));
    expect(ids.size).toBe(1000);
  });

  it('keep a sane x-request-id from the client and replace one that is not', () => {
    expect(requestIdFrom('client-42')).toBe('client-42');
    expect(requestIdFrom('has spaces')).toMatch(/^req_[0-9a-f]{24}$/);
    expect(requestIdFrom('x'.repeat(129))).toMatch(/^req_[0-9a-f]{24}$/);
    expect(requestIdFrom(['a', 'b'])).toMatch(/^req_[0-9a-f]{24}$/);
  });
});

describe('continueTrace', () => {
  it('keeps the client trace id and flags under a new span id of ours', () => {
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const next = continueTrace(incoming);
    expect(next).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(next).not.toBe(incoming);
  });

  it('starts a sampled trace when the client sent none or a malformed one', () => {
    expect(continueTrace(undefined)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(continueTrace('garbage')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});
