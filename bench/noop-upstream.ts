/**
 * A no-op OpenAI-compatible upstream for benchmarks: canned replies with no work, so what is measured above it
 * is the proxy. Streams a fixed 8-chunk SSE reply when the request asks for streaming.
 */
import http from 'node:http';

const body = JSON.stringify({
  id: 'chatcmpl-noop',
  object: 'chat.completion',
  created: 0,
  model: 'noop',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok ok ok ok ok ok ok ok' }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 8, completion_tokens: 8, total_tokens: 16 },
});
const chunk = (delta: string, finish: string | null) =>
  `data: {"id":"chatcmpl-noop","object":"chat.completion.chunk","created":0,"model":"noop","choices":[{"index":0,"delta":${delta},"finish_reason":${finish ? `"${finish}"` : 'null'}}]}\n\n`;
let sse = chunk('{"role":"assistant","content":""}', null);
for (let i = 0; i < 8; i++) sse += chunk('{"content":"ok "}', null);
sse += chunk('{}', 'stop');
sse += 'data: {"id":"chatcmpl-noop","object":"chat.completion.chunk","created":0,"model":"noop","choices":[],"usage":{"prompt_tokens":8,"completion_tokens":8,"total_tokens":16}}\n\n';
sse += 'data: [DONE]\n\n';

const server = http.createServer((req, res) => {
  let streaming = false;
  req.on('data', (c: Buffer) => {
    if (!streaming && c.includes('"stream":true')) streaming = true;
  });
  req.on('end', () => {
    if (streaming) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(sse);
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`LISTENING ${typeof a === 'object' && a ? a.port : 0}\n`);
});
