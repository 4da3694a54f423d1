import { z } from 'zod';

/** What a model can do; requests needing a capability skip deployments without it. */
export const capabilities = ['chat', 'tools', 'vision', 'json', 'embedding', 'streaming'] as const;

/** A model capability. */
export type Capability = (typeof capabilities)[number];

/** Price in USD per million tokens. */
export const priceSchema = z.strictObject({
  inPerMTok: z.number().min(0).describe('USD per million input tokens'),
  outPerMTok: z.number().min(0).describe('USD per million output tokens'),
  cachedInPerMTok: z
    .number()
    .min(0)
    .optional()
    .describe('USD per million cached input tokens (defaults to inPerMTok)'),
});

/** One concrete upstream model behind a logical model. */
export const deploymentSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[a-zA-Z0-9._-]+$/)
    .optional()
    .describe('stable id; defaults to `<provider>/<model>`'),
  provider: z.string().describe('a key of `providers`'),
  model: z.string().min(1).describe('the upstream model name'),
  weight: z.number().min(0).default(1).describe('share of traffic among healthy deployments'),
  price: priceSchema.default({ inPerMTok: 0, outPerMTok: 0 }).describe('USD per million tokens'),
  contextWindow: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('max input + output tokens; overrides the model’s'),
  capabilities: z.array(z.enum(capabilities)).optional().describe('overrides the model’s capabilities'),
  maxConcurrent: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('concurrent upstream requests to this deployment'),
});

/** A logical model: the name clients send as `model`, backed by weighted deployments. */
export const modelSchema = z.strictObject({
  description: z.string().optional().describe('shown in `/v1/models` and the studio'),
  contextWindow: z.number().int().positive().default(128_000).describe('max input + output tokens'),
  maxOutputTokens: z
    .number()
    .int()
    .positive()
    .default(4096)
    .describe('output bound reserved when the client sets none'),
  capabilities: z
    .array(z.enum(capabilities))
    .default(['chat', 'streaming'])
    .describe('what the model can do'),
  deployments: z.array(deploymentSchema).min(1).describe('the upstream models serving it'),
});

/** A declared logical model. */
export type ModelSpec = z.output<typeof modelSchema>;
/** A declared deployment. */
export type DeploymentSpec = z.output<typeof deploymentSchema>;
