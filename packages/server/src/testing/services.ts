import { connect } from 'node:net';

/**
 * Whether an external server a test needs (Redis, RabbitMQ) is reachable. Returns undefined when
 * it is, or a reason to skip the test when it is not. Under `CI=true` a missing server is a failure,
 * never a skip: CI provides every service, so a skip there would hide a broken setup.
 */
export async function requireService(
  name: string,
  url: string,
  timeoutMs = 2000,
): Promise<string | undefined> {
  const { hostname, port } = endpoint(url);
  const problem = await new Promise<string | undefined>((resolve) => {
    const socket = connect({ host: hostname, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(`no answer within ${timeoutMs} ms`);
    });
    socket.once('error', (err) => resolve(err.message));
  });
  if (problem === undefined) return undefined;
  const message = `${name} is not reachable at ${hostname}:${port} (${problem})`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI must provide it.`);
  return `${message}; skipping (under CI=true this fails instead)`;
}

const defaultPorts: Record<string, number> = {
  'redis:': 6379,
  'rediss:': 6380,
  'amqp:': 5672,
  'amqps:': 5671,
};

function endpoint(url: string): { hostname: string; port: number } {
  const parsed = new URL(url);
  const hostname = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = parsed.port ? Number(parsed.port) : (defaultPorts[parsed.protocol] ?? 0);
  return { hostname, port };
}
