// The ceiling: a bare node:http server answering every request with the same bytes
// and headers as the FHIR server's read. Started as its own process by the benchmark.
import { createServer } from 'node:http';

const [port, bodyFile] = process.argv.slice(2);
const { readFileSync } = await import('node:fs');
const { body, headers } = JSON.parse(readFileSync(bodyFile, 'utf8'));
createServer((req, res) => {
  res.writeHead(200, headers);
  res.end(body);
}).listen(Number(port), '127.0.0.1', () => process.send?.('ready'));
