/** How a request ended, as the usage ledger records it. */
export type LedgerOutcome = 'ok' | 'error' | 'cancelled' | 'timeout' | 'denied';

/** Whether the response came from the gateway's cache: `bypass` when no cache rule applied. */
export type LedgerCacheStatus = 'hit' | 'miss' | 'bypass';

/** One request in the usage ledger. Never holds content, secrets or the API key itself. */
export interface LedgerRow {
  /** Epoch ms when the request arrived. */
  time: number;
  /**
   * The request's id as its client saw it (`x-request-id`): the gateway's own, or the client's when
   * it sent one, so two rows may share it (a client that reuses its ids).
   */
  requestId: string;
  /**
   * The row's own key, made by the gateway and unique (default: `requestId`, for a gateway-made
   * id): appending the same key twice keeps the first row, so a retried batch counts once, while
   * requests that share a client's id are all kept.
   */
  rowId?: string | undefined;
  tenant: string;
  keyId: string;
  routeId?: string | undefined;
  /** The logical model the plan chose. */
  logicalModel?: string | undefined;
  /** The deployment that served (`Deployment.id`). */
  deployment?: string | undefined;
  /** `name@version` of the policy that decided. */
  policyVersion: string;
  /** `<experiment id>/<arm>` or the rollout arm (`stable`, `canary`). */
  experimentArm?: string | undefined;
  inputTokens: number;
  outputTokens: number;
  /** Input tokens served from the provider's prompt cache. */
  cachedTokens: number;
  costUsd: number;
  /** Whether the tokens (and so the cost) were estimated because the upstream reported no usage. */
  estimated: boolean;
  /** From arrival to the last byte sent. */
  latencyMs: number;
  /** From arrival to the first token sent (streams). */
  ttftMs?: number | undefined;
  /** HTTP status the client got. */
  status: number;
  outcome: LedgerOutcome;
  /** Retries after the first attempt, over all deployments tried. */
  retries: number;
  /** Escalation hops taken. */
  escalations: number;
  cacheStatus: LedgerCacheStatus;
  /** What a cache hit saved: the upstream cost of the answer it replayed (0 otherwise, the default). */
  savedCostUsd?: number | undefined;
}

/** What ledger aggregates can be grouped and filtered by, and the row field each one reads. */
export const ledgerDimensions = {
  tenant: 'tenant',
  key: 'keyId',
  route: 'routeId',
  model: 'logicalModel',
  deployment: 'deployment',
  policy: 'policyVersion',
  arm: 'experimentArm',
  outcome: 'outcome',
  cache: 'cacheStatus',
} as const satisfies Record<string, keyof LedgerRow>;

/** A ledger dimension: `tenant`, `key`, `route`, `model`, `deployment`, `policy`, `arm`, `outcome` or `cache`. */
export type LedgerDimension = keyof typeof ledgerDimensions;

/** Which rows to aggregate and how. */
export interface LedgerQuery {
  /** Dimensions to group by, in order; empty for one total per time bucket. */
  groupBy: readonly LedgerDimension[];
  /** Epoch ms, inclusive. */
  fromMs: number;
  /** Epoch ms, exclusive. */
  toMs: number;
  /**
   * Width of a time bucket in ms; buckets start at multiples of it since the epoch (UTC), so an
   * hour bucket starts on the hour. Undefined: one bucket for the whole range, starting at `fromMs`.
   */
  bucketMs?: number | undefined;
  /** Only rows whose dimension has exactly this value. */
  where?: Partial<Record<LedgerDimension, string>> | undefined;
}

/** Totals of one group in one time bucket. */
export interface LedgerAggregate {
  bucketStartMs: number;
  /** The group's value of each `groupBy` dimension; null where rows had none (e.g. no deployment). */
  group: Partial<Record<LedgerDimension, string | null>>;
  requests: number;
  /** Outcome `error` or `timeout`. */
  errors: number;
  timeouts: number;
  cancelled: number;
  denied: number;
  cacheHits: number;
  /** Rows that took at least one escalation hop (rollout analysis compares escalation rates). */
  escalated: number;
  /** Rows whose tokens were estimated. */
  estimated: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  costUsd: number;
  /** Upstream cost that cache hits saved (always filled by the stores). */
  savedCostUsd?: number | undefined;
  /**
   * Latency percentiles (nearest rank: the value at rank ⌈p·n⌉) over the group's rows that were
   * not denied; null when every row was denied.
   */
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
}

/**
 * The usage ledger: one row per request, appended in batches off the request path (see
 * `LedgerWriter`), aggregated for the studio, rollout analysis and billing exports.
 */
export interface LedgerStore {
  /** Inserts rows in one batch, all or none; rows whose key (`rowId ?? requestId`) is already stored are skipped. */
  append(rows: readonly LedgerRow[]): Promise<void>;
  /** Aggregates, ordered by bucket, then by group values (nulls first). */
  query(query: LedgerQuery): Promise<LedgerAggregate[]>;
  /** Releases what the store holds (not a connection or database it was given). */
  close(): Promise<void>;
}

/** Orders aggregates as `LedgerStore.query` returns them: by bucket, then group values, nulls first. */
export function compareLedgerAggregates(
  groupBy: readonly LedgerDimension[],
): (a: LedgerAggregate, b: LedgerAggregate) => number {
  return (a, b) => {
    if (a.bucketStartMs !== b.bucketStartMs) return a.bucketStartMs - b.bucketStartMs;
    for (const d of groupBy) {
      const x = a.group[d] ?? null;
      const y = b.group[d] ?? null;
      if (x === y) continue;
      if (x === null) return -1;
      if (y === null) return 1;
      return x < y ? -1 : 1;
    }
    return 0;
  };
}

/** Rejects a query that cannot be answered: unknown dimensions, an empty range, a bad bucket. */
export function assertValidLedgerQuery(query: LedgerQuery): void {
  for (const d of [...query.groupBy, ...Object.keys(query.where ?? {})]) {
    if (!Object.hasOwn(ledgerDimensions, d)) {
      throw new Error(
        `unknown ledger dimension \`${d}\`, expected one of ${Object.keys(ledgerDimensions).join(', ')}`,
      );
    }
  }
  if (!(query.toMs > query.fromMs))
    throw new Error(`expected \`toMs\` after \`fromMs\`, got ${query.fromMs}..${query.toMs}`);
  if (query.bucketMs !== undefined && !(Number.isInteger(query.bucketMs) && query.bucketMs > 0)) {
    throw new Error(`expected \`bucketMs\` to be a positive integer, got \`${query.bucketMs}\``);
  }
}
