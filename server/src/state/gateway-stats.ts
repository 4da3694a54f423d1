/**
 * Counters of the protection layer's degraded modes, kept on the gateway context so metrics can
 * read them without reaching into the request path. Plain numbers, only ever incremented.
 */
export interface GatewayStats {
  /** Limit and quota operations served by local in-memory stores because the shared store failed (fail-open). */
  storeFailOpen: number;
  /** Requests refused with 503 `limit_store_unavailable` because the shared store failed (fail-closed). */
  storeFailClosed: number;
  /** Outages of the shared store seen: a failure after a success (each logged once). */
  storeOutages: number;
  /** Breaker reads and writes served by local breakers because the shared store failed. */
  breakerFailOpen: number;
  /** Settles, releases and bucket corrections that failed (the reservation's lease reclaims it). */
  settleFailures: number;
  /** Ledger rows that will never be written (queue full, store down past retries, after close). */
  ledgerDropped: number;
}

/** Fresh counters, all zero. */
export function createGatewayStats(): GatewayStats {
  return {
    storeFailOpen: 0,
    storeFailClosed: 0,
    storeOutages: 0,
    breakerFailOpen: 0,
    settleFailures: 0,
    ledgerDropped: 0,
  };
}
