import { it } from 'vitest';
import { SimulatorAdapter } from './providers/simulator/adapter.ts';
import { startTestGateway } from './testing/start-test-gateway.ts';

it('smoke', async () => {
  const gw = await startTestGateway({ createAdapter: (spec) => new SimulatorAdapter(spec) });
  const h = { authorization: `Bearer ${gw.apiKey}`, 'content-type': 'application/json' };
  for (const body of [
    { model: 'fast', messages: [{ role: 'user', content: 'Hello there' }] },
    { model: 'auto', messages: [{ role: 'user', content: 'Hello there' }], stream: true },
    { model: 'auto', messages: [{ role: 'user', content: 'Hello there #sim:midstream-error=3' }], stream: true },
    { model: 'fast', messages: [{ role: 'user', content: 'Hello there #sim:error=503' }] },
    { model: 'nope', messages: [{ role: 'user', content: 'x' }] },
    { model: 'fast', messages: [{ role: 'bot', content: 'x' }] },
  ]) {
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: h, body: JSON.stringify(body) });
    console.log(res.status, JSON.stringify(Object.fromEntries([...res.headers].filter(([k]) => k.startsWith('x-') || k === 'retry-after'))));
    console.log((await res.text()).slice(0, 1500));
  }
  const res = await fetch(`${gw.url}/v1/models`, { headers: h });
  console.log(res.status, await res.text());
  const e = await fetch(`${gw.url}/v1/embeddings`, { method: 'POST', headers: h, body: JSON.stringify({ model: 'embed', input: ['a', 'b'] }) });
  console.log(e.status, (await e.text()).slice(0, 300));
  console.log(gw.logs.filter((l) => l.msg === 'request').map((l) => JSON.stringify(l)).join('\n'));
  await gw.close();
});
