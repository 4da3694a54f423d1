import type { FastifyPluginAsync } from 'fastify';
import { httpError } from '../errors.ts';
import type { LedgerAggregate } from '../stores/ledger-store.ts';
import { parseUsageQuery, UsageQueryError } from '../stores/ledger-usage-query.ts';
import { adminAuthHook } from './admin-auth.ts';
import type { GatewayContext } from './gateway-context.ts';

/** Query parameters that are not dimension filters. */
const queryParams = new Set(['groupBy', 'from', 'to', 'bucket']);

/** Longest the endpoint waits for queued ledger rows to be written before answering. */
const flushWaitMs = 2000;

/** An aggregate as the API shows it: ISO bucket start, the rest as stored. */
export function viewUsageAggregate(a: LedgerAggregate): Record<string, unknown> {
  const { bucketStartMs, ...rest } = a;
  return { bucketStart: new Date(bucketStartMs).toISOString(), ...rest };
}

/**
 * `GET /admin/v1/usage?groupBy=tenant,model&from=&to=&bucket=1h&tenant=…`: usage ledger aggregates
 * (requests, errors, tokens, cost, latency percentiles) per group and time bucket. Rows still
 * queued in this replica are written first (for a moment at most), so a request just served shows.
 */
export const adminUsageRoute: FastifyPluginAsync<{ ctx: GatewayContext }> = async (app, { ctx }) => {
  app.addHook('onRequest', adminAuthHook(ctx));

  app.get('/admin/v1/usage', async (request) => {
    const raw = (request.query ?? {}) as Record<string, unknown>;
    const text: Record<string, string> = {};
    for (const [name, value] of Object.entries(raw)) {
      if (typeof value !== 'string')
        throw httpError(
          'invalid_request',
          { param: name, detail: 'expected a single value' },
          { param: name },
        );
      text[name] = value;
    }
    let query: ReturnType<typeof parseUsageQuery>;
    try {
      query = parseUsageQuery(
        {
          groupBy: text.groupBy,
          from: text.from,
          to: text.to,
          bucket: text.bucket,
          where: Object.fromEntries(Object.entries(text).filter(([k]) => !queryParams.has(k))),
        },
        ctx.clock.now(),
      );
    } catch (err) {
      if (err instanceof UsageQueryError)
        throw httpError('invalid_request', { param: err.param, detail: err.detail }, { param: err.param });
      throw err;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      ctx.ledgerWriter.flush(),
      new Promise((resolve) => {
        timer = setTimeout(resolve, flushWaitMs);
      }),
    ]).finally(() => clearTimeout(timer));
    const data = await ctx.state.ledger.query(query);
    return {
      object: 'list',
      from: new Date(query.fromMs).toISOString(),
      to: new Date(query.toMs).toISOString(),
      bucketMs: query.bucketMs ?? null,
      groupBy: query.groupBy,
      data: data.map(viewUsageAggregate),
    };
  });
};
