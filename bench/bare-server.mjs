// The ceiling: a bare node:http server answering every request with the same bytes
// and headers as the FHIR server's read. Started as its own process by the benchmark,
// on a free port, which it reports with its process id.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [bodyFile] = process.argv.slice(2);
const { body, headers } = JSON.parse(readFileSync(bodyFile, 'utf8'));
const server = createServer((req, res) => {
  res.writeHead(200, headers);
  res.end(body);
});
server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port, pid: process.pid }));
// Gone with the benchmark, however it ends.
process.on('disconnect', () => process.exit(0));
