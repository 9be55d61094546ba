import { createGateway, type Gateway } from '@agentwire/server';
import pc from 'picocolors';
import { gatewayOptions, gatewaySpecs } from '../gateway-options.js';
import { announceSecurity, dashboardUrl } from '../security-options.js';
import { helpText, parseOptions } from '../options.js';

export const serveHelp = helpText(
  'agentwire serve [options]',
  'Run the gateway: durable log, live fan-out, HTTP API and WebSocket endpoint.',
  gatewaySpecs,
);

export async function startFromArgs(argv: string[], help: string): Promise<Gateway | undefined> {
  const { values } = parseOptions(argv, gatewaySpecs);
  if (values.help) {
    process.stdout.write(help);
    return undefined;
  }
  const options = gatewayOptions(values);
  const gateway = await createGateway(options);
  if (options.security) await announceSecurity(gateway, options.security);
  if (options.staticDir) dashboards.add(gateway);
  return gateway;
}

/** Gateways that serve the web dashboard at `/`, so their URL is printed first. */
const dashboards = new WeakSet<Gateway>();

export function printUrls(gateway: Gateway, extra: string[] = []): void {
  const lines = [
    '',
    `  ${pc.bold(pc.cyan('agentwire'))} is running (${gateway.engine.kind} log)`,
    '',
    ...(dashboards.has(gateway) ? [`  Dashboard      ${pc.bold(pc.underline(dashboardUrl(gateway)))}`] : []),
    `  Tasks (JSON)   ${pc.underline(`${gateway.url}/v1/tasks`)}`,
    `  WebSocket      ${pc.underline(gateway.wsUrl)}`,
    `  Health         ${pc.underline(`${gateway.url}/healthz`)}`,
    ...extra,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function stopOnSignals(gateway: Gateway, before?: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    gateway.logger.info({ signal }, 'shutting down');
    (async () => {
      await before?.();
      await gateway.close();
    })().then(
      () => process.exit(0),
      (err: unknown) => {
        gateway.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

export async function serve(argv: string[]): Promise<void> {
  const gateway = await startFromArgs(argv, serveHelp);
  if (!gateway) return;
  stopOnSignals(gateway);
  printUrls(gateway);
}
