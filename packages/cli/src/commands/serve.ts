import { relative, resolve } from 'node:path';
import { createGateway, DEFAULT_PORT, type Gateway, type GatewayCloseOptions } from '@agentwire/server';
import pc from 'picocolors';
import { gatewayOptions, gatewaySpecs } from '../gateway-options.js';
import { announceSecurity, dashboardUrl } from '../security-options.js';
import { helpText, parseDuration, parseOptions, type OptionSpecs } from '../options.js';
import { startTracing, tracingRequest, type Tracing } from '../otel.js';

export const serveHelp = helpText(
  'agentwire serve [options]',
  'Run the gateway: durable log, live fan-out, HTTP API and WebSocket endpoint.',
  gatewaySpecs,
);

export async function startFromArgs(
  argv: string[],
  help: string,
  specs: OptionSpecs = gatewaySpecs,
): Promise<Gateway | undefined> {
  const { values } = parseOptions(argv, specs);
  if (values.help) {
    process.stdout.write(help);
    return undefined;
  }
  const { warnings, ...options } = gatewayOptions(values, argv);
  const shutdown = shutdownOptions(values);
  // Before the gateway, so its first spans are exported too (docs/observability.md#tracing).
  const why = tracingRequest(values.otel === true);
  const tracing = why && (await startTracing(why, (warning) => warnings.push(warning)));
  let gateway: Gateway;
  try {
    gateway = await createGateway(options);
  } catch (err) {
    await tracing?.shutdown();
    throw err;
  }
  if (tracing) tracings.set(gateway, tracing);
  for (const warning of warnings) gateway.logger.warn(warning);
  if (options.security) await announceSecurity(gateway, options.security);
  if (options.staticDir) dashboards.add(gateway);
  // The data folder holds the secret even with the memory engine, so the hint names it either way.
  const dataDir = resolve(String(values.data));
  const data = relative(process.cwd(), dataDir) !== 'agentwire-data' ? dataDir : undefined;
  hints.set(gateway, {
    secure: !!options.security && !options.security.insecure,
    ...(gateway.port !== DEFAULT_PORT && { url: gateway.url }),
    ...(data !== undefined && { data }),
  });
  shutdowns.set(gateway, shutdown);
  return gateway;
}

/** The OpenTelemetry SDK each gateway started, flushed after the gateway closes. */
const tracings = new WeakMap<Gateway, Tracing>();

/** What the "next steps" lines need to be copy-pasteable: whether tokens are needed, and extra flags. */
const hints = new WeakMap<Gateway, { secure: boolean; url?: string; data?: string }>();

/** Commands a new user can paste: watch a task, and run their own agent against this gateway. */
export function nextSteps(gateway: Gateway): string[] {
  const hint = hints.get(gateway) ?? { secure: false };
  const data = hint.data ? ` --data ${hint.data}` : '';
  const tail = `npx agentwire tail${hint.url ? ` --url ${hint.url}` : ''}${data}`;
  const token = hint.secure ? `AGENTWIRE_TOKEN=$(npx agentwire token --publish${data}) ` : '';
  const env = hint.url ? `AGENTWIRE_URL=${hint.url} ` : '';
  return [
    '',
    `  Watch a task live:   ${pc.bold(tail)}`,
    `  Run your own agent:  ${pc.bold(`${token}${env}node examples/dist/quickstart.js`)}`,
  ];
}

/** Gateways that serve the web dashboard at `/`, so their URL is printed first. */
const dashboards = new WeakSet<Gateway>();
/** How each gateway shuts down on a signal (--drain-delay, --shutdown-grace). */
const shutdowns = new WeakMap<Gateway, Required<GatewayCloseOptions>>();

function shutdownOptions(
  values: Record<string, string | boolean | undefined>,
): Required<GatewayCloseOptions> {
  const duration = (name: string) => {
    const text = String(values[name]);
    return text === '0' ? 0 : parseDuration(text);
  };
  return { drainDelayMs: duration('drain-delay'), graceMs: duration('shutdown-grace') };
}

export function printUrls(gateway: Gateway, extra: string[] = []): void {
  const lines = [
    '',
    `  ${pc.bold(pc.cyan('agentwire'))} is running (${gateway.engine.kind} log)`,
    '',
    ...(dashboards.has(gateway) ? [`  Dashboard      ${pc.bold(pc.underline(dashboardUrl(gateway)))}`] : []),
    `  Tasks (JSON)   ${pc.underline(`${gateway.url}/v1/tasks`)}`,
    `  WebSocket      ${pc.underline(gateway.wsUrl)}`,
    `  Health         ${pc.underline(`${gateway.url}/healthz`)}`,
    ...(gateway.metricsUrl ? [`  Metrics        ${pc.underline(gateway.metricsUrl)}`] : []),
    ...extra,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * SIGTERM (and SIGINT) shut down gracefully: /readyz fails for --drain-delay, new requests get 503,
 * clients are told to reconnect elsewhere (close 1012), requests in flight get --shutdown-grace to
 * finish, the log is flushed, and the process exits 0. A second signal exits at once with 1, and so
 * does a shutdown that overruns its budget (a stuck connection must not outlive the pod's grace).
 */
export function stopOnSignals(gateway: Gateway, before?: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    const plan = shutdowns.get(gateway) ?? { drainDelayMs: 0, graceMs: 10_000 };
    gateway.logger.info({ signal, ...plan }, 'shutting down');
    const budget = setTimeout(
      () => {
        gateway.logger.error({ signal }, 'shutdown overran its budget; exiting now');
        process.exit(1);
      },
      plan.drainDelayMs + plan.graceMs + 10_000,
    );
    budget.unref();
    (async () => {
      await before?.();
      await gateway.close(plan);
      await tracings.get(gateway)?.shutdown();
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
  printUrls(gateway, nextSteps(gateway));
}
