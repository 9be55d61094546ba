// The child process of cluster-limits.test.ts: a gateway node on the test's Redis prefix, with auth
// and the test's per-user limit, run until the test kills it. Prints `ready <ws url>`.
// Usage: node limits-child.js <redis url> <prefix> <max connections per user>
import { pathToFileURL } from 'node:url';
import { SECRET } from '../auth-kit.js';
import { createGateway } from '../../gateway.js';

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) {
  const [url, prefix, max] = process.argv.slice(2);
  if (!url || !prefix || !max) {
    process.stderr.write('usage: limits-child.js <redis url> <prefix> <max connections per user>\n');
    process.exit(2);
  }
  const gw = await createGateway({
    port: 0,
    logLevel: 'silent',
    engine: { kind: 'redis', url, prefix },
    auth: { secret: SECRET },
    limits: { maxConnectionsPerUser: Number(max) },
  });
  process.stdout.write(`ready ${gw.wsUrl}\n`);
}
