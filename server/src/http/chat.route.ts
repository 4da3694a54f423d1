import type { FastifyPluginAsync } from 'fastify';
import type { ChatRequest } from '../providers/chat-types.ts';
import { chatRequestSchema } from './chat-request.schema.ts';
import type { GatewayContext } from './gateway-context.ts';
import { parseBody } from './parse-body.ts';
import { openAiChatOutput, proxyChat } from './proxy-chat.ts';
import { authenticateHook } from './proxy-request.ts';

/** `POST /v1/chat/completions`: OpenAI chat completions, streamed (SSE) or not. */
export const chatRoute: FastifyPluginAsync<{ ctx: GatewayContext }> = async (app, { ctx }) => {
  app.post(
    '/v1/chat/completions',
    { onRequest: authenticateHook(ctx, 'chat'), config: { errorShape: 'openai' } },
    async (request, reply) => {
      const body = parseBody(chatRequestSchema, request.body) as ChatRequest;
      return proxyChat(ctx, request, reply, body, openAiChatOutput(body));
    },
  );
};
