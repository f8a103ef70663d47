// A second ceiling: Fastify with one route and nothing else (no plugins, no hooks), answering
// every request with the same bytes and headers as the FHIR server's read. What ccri costs beyond
// it is ours. Started as its own process by the benchmark, on a free port, which it reports with
// its process id.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const [bodyFile] = process.argv.slice(2);
const { body, headers } = JSON.parse(readFileSync(bodyFile, 'utf8'));
const app = Fastify({ logger: false });
app.get('/*', (_request, reply) => {
  reply.headers(headers).send(body);
});
await app.listen({ port: 0, host: '127.0.0.1' });
process.send?.({ port: app.server.address().port, pid: process.pid });
// Gone with the benchmark, however it ends.
process.on('disconnect', () => process.exit(0));
