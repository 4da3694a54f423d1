import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Writable } from 'node:stream';
import { type CompiledPolicy, compilePolicy, formatDiagnostic, type PolicyFile } from '@switchyard/engine';
import { type AdapterFactory, loadConfig, startServer } from '@switchyard/server';
import { type Logger, pino } from 'pino';

/** A gateway serving one policy on 127.0.0.1, for the eval gate to send a suite through. */
export interface PolicyGateway {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** `<url>/v1`: the OpenAI base URL. */
  baseURL: string;
  /** A key of tenant `default`. */
  apiKey: string;
  /** The policy it serves, compiled (for prices and the label). */
  policy: CompiledPolicy;
  /** Stops it and removes its temporary policy and state folders. */
  close(): Promise<void>;
}

/** Options of `startPolicyGateway`. */
export interface PolicyGatewayOptions {
  /** Default: silent. */
  logger?: Logger | undefined;
  /** Creates provider adapters (default: the built-in ones); tests inject faults here. */
  createAdapter?: AdapterFactory | undefined;
  /** Turns the admin API on with this token (at least 16 characters); default off. */
  adminToken?: string | undefined;
}

const discard = new Writable({
  write(_chunk, _encoding, done) {
    done();
  },
});

/**
 * Starts a gateway in this process for a policy given as files (a folder's or a published
 * version's), on 127.0.0.1 with a free port and a fresh temporary state folder, so what the eval
 * measures is this policy alone: its routing, escalation and cache, with nothing cached from
 * another run. Settings come from defaults, never from this process's `SWITCHYARD_*` variables.
 */
export async function startPolicyGateway(
  files: readonly PolicyFile[],
  options: PolicyGatewayOptions = {},
): Promise<PolicyGateway> {
  const compiled = compilePolicy(files);
  if (!compiled.ok)
    throw new Error(`policy does not compile:\n${compiled.errors.map(formatDiagnostic).join('\n')}`);
  const root = mkdtempSync(join(tmpdir(), 'sy-gate-'));
  const policyDir = join(root, 'policy');
  try {
    mkdirSync(policyDir);
    for (const f of files) writeFileSync(join(policyDir, basename(f.path)), f.text);
    const config = loadConfig(
      { policy: policyDir, port: '0', host: '127.0.0.1', stateDir: join(root, 'state') },
      options.adminToken ? { SWITCHYARD_ADMIN_TOKEN: options.adminToken } : {},
    );
    const server = await startServer(config, {
      out: discard,
      logger: options.logger ?? pino({ level: 'silent' }),
      handleSignals: false,
      createAdapter: options.createAdapter,
    });
    return {
      url: server.url,
      baseURL: `${server.url}/v1`,
      apiKey: server.devKey,
      policy: compiled.policy,
      async close() {
        await server.shutdown();
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}
