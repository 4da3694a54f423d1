import type { FastifyPluginAsync } from 'fastify';
import { httpErrorFromUpstream } from '../errors.ts';
import {
  anthropicEventsFromChunks,
  anthropicMessageFromCompletion,
  chatRequestFromAnthropic,
} from '../providers/anthropic/translate-inbound.ts';
import type { AnthropicRequest } from '../providers/anthropic/wire.ts';
import type { ChatRequest } from '../providers/chat-types.ts';
import { UpstreamError } from '../providers/provider.ts';
import type { GatewayContext } from './gateway-context.ts';
import { messagesRequestSchema } from './messages-request.schema.ts';
import { parseBody } from './parse-body.ts';
import { type ChatOutput, proxyChat } from './proxy-chat.ts';
import { authenticateHook } from './proxy-request.ts';

/** Anthropic Messages in and out: the same policy path as chat completions, Anthropic's formats at the edge. */
function anthropicOutput(request: AnthropicRequest): ChatOutput {
  return {
    endpoint: 'messages',
    errorShape: 'anthropic',
    completion: (completion) => anthropicMessageFromCompletion(completion),
    async stream(chunks, writer) {
      let errorCode: string | undefined;
      for await (const sse of anthropicEventsFromChunks(chunks, { model: request.model })) {
        if (writer.isClosed) return {};
        if (sse.event === 'error') errorCode = 'upstream_stream_error';
        await writer.send(sse.data, sse.event);
      }
      writer.end();
      return errorCode ? { errorCode } : {};
    },
  };
}

/** `POST /v1/messages`: the Anthropic Messages API, for clients built on Anthropic's SDKs. */
export const messagesRoute: FastifyPluginAsync<{ ctx: GatewayContext }> = async (app, { ctx }) => {
  app.post(
    '/v1/messages',
    { onRequest: authenticateHook(ctx, 'messages'), config: { errorShape: 'anthropic' } },
    async (request, reply) => {
      const anthropic = parseBody(messagesRequestSchema, request.body) as unknown as AnthropicRequest;
      let chat: ChatRequest;
      try {
        chat = chatRequestFromAnthropic(anthropic);
      } catch (err) {
        throw err instanceof UpstreamError ? httpErrorFromUpstream(err) : err;
      }
      if (chat.messages.length === 0) {
        throw httpErrorFromUpstream(
          new UpstreamError(
            '`messages` holds no content',
            'status',
            400,
            'invalid_request_error',
            'invalid_request',
          ),
        );
      }
      return proxyChat(ctx, request, reply, chat, anthropicOutput(anthropic));
    },
  );
};
