// The overhead bench's closed-loop chat scenario (chat-c32 / chat-c128) for k6 users: VUS virtual
// users each send a non-streaming chat completion, wait for the whole answer, send again.
//
//   k6 run -e BASE_URL=http://127.0.0.1:8787 -e API_KEY=sk-sy-... -e MODEL=fast -e VUS=32 \
//     -e DURATION=30s bench/k6/chat-closed-loop.js
//
// Portkey: -e MODEL=bench-model -e API_KEY=anything \
//   -e EXTRA_HEADERS='{"x-portkey-provider":"openai","x-portkey-custom-host":"http://127.0.0.1:9100/v1"}'
// The first WARMUP (default 5s) is load too, but only the `measured` scenario's samples are
// reported against the thresholds; compare gateways only with runs from the same machine and hour.
import { check } from 'k6';
import http from 'k6/http';

const baseUrl = __ENV.BASE_URL || 'http://127.0.0.1:8787';
const vus = Number(__ENV.VUS || 32);
const warmup = __ENV.WARMUP || '5s';

// The same body as bench/src/overhead-scenarios.ts `requestBody('chat', model)`.
const body = JSON.stringify({
  model: __ENV.MODEL || 'fast',
  messages: [
    {
      role: 'system',
      content:
        'You are a concise assistant for Acme Cloud. Answer in one or two sentences, in the language of the ' +
        'question, and never invent facts you were not given.',
    },
    { role: 'user', content: 'What does a gateway in front of an LLM API do? Keep it short.' },
  ],
  max_tokens: 64,
  temperature: 0.7,
});

const headers = Object.assign(
  {
    'content-type': 'application/json',
    authorization: `Bearer ${__ENV.API_KEY || 'sk-bench-not-a-real-key'}`,
  },
  JSON.parse(__ENV.EXTRA_HEADERS || '{}'),
);

export const options = {
  discardResponseBodies: true,
  summaryTrendStats: ['avg', 'p(50)', 'p(95)', 'p(99)', 'max'],
  scenarios: {
    warmup: { executor: 'constant-vus', vus, duration: warmup, gracefulStop: '0s' },
    measured: {
      executor: 'constant-vus',
      vus,
      duration: __ENV.DURATION || '30s',
      startTime: warmup,
      gracefulStop: '5s',
    },
  },
  // A threshold on a tagged sub-metric is what makes k6 print the measured scenario on its own.
  thresholds: {
    'http_req_failed{scenario:measured}': ['rate==0'],
    'http_req_duration{scenario:measured}': ['p(99)>=0'],
  },
};

export default function () {
  const res = http.post(`${baseUrl}/v1/chat/completions`, body, { headers });
  check(res, { 'status is 200': (r) => r.status === 200 });
}
