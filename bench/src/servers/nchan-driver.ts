import { get } from 'node:http';
import { PipelinedHttp } from '../http-pipe.js';
import { serveController } from './child.js';
import { EnvelopeMaker, nowNs } from './driver.js';

/**
 * Publishes into nchan for the fan-out scenarios. nchan's own way in is one HTTP POST per message,
 * so this process pipelines POSTs to nginx over a few keep-alive sockets. It runs on the server
 * core next to nginx, as the in-process publishers of the other servers do.
 */
const port = Number(process.env.BENCH_NCHAN_PORT);
const http = new PipelinedHttp(port, 4);
await http.open();
const envelopes = new EnvelopeMaker();
let failures = 0;

function publish(stream: string, stamps: number[]): void {
  for (const stamp of stamps) {
    http.post(
      `/pub/${encodeURIComponent(stream)}`,
      JSON.stringify(envelopes.make(stream, stamp)),
      'application/json',
      (status) => {
        if (status >= 300) failures++;
      },
    );
  }
}

/** nchan counts its subscribers in its stub status page. */
function subscribers(): Promise<number> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/status' }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve(Number(/subscribers:\s*(\d+)/.exec(text)?.[1] ?? NaN)));
    }).on('error', reject);
  });
}

serveController(port, {
  publish,
  async burst(streams, perStream) {
    for (const stream of streams) publish(stream, Array.from({ length: perStream }, nowNs));
    while (http.outstanding > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  },
  connections: subscribers,
  close: async () => {
    if (failures > 0) console.error(`nchan driver: ${failures} publishes failed`);
    http.close();
  },
});
