import { UsageError } from './options.js';

/** The package `--otel` loads; optional, so a gateway without tracing installs none of it. */
export const OTEL_SDK_PACKAGE = '@opentelemetry/sdk-node';

export interface Tracing {
  /** Exports the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

/**
 * Why tracing should start: `--otel` (or AGENTWIRE_OTEL), or the standard variables that say where
 * spans go (OTEL_TRACES_EXPORTER other than none, an OTLP endpoint). OTEL_SDK_DISABLED wins.
 */
export function tracingRequest(
  flag: boolean,
  env: NodeJS.ProcessEnv = process.env,
): 'flag' | 'env' | undefined {
  if (/^true$/i.test(env.OTEL_SDK_DISABLED?.trim() ?? '')) return undefined;
  if (flag) return 'flag';
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (exporters.length > 0) return exporters.includes('none') ? undefined : 'env';
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return 'env';
  return undefined;
}

interface NodeSdkModule {
  NodeSDK: new (config?: { serviceName?: string }) => { start(): void; shutdown(): Promise<void> };
}

/**
 * Starts the OpenTelemetry Node SDK, configured by the standard OTEL_* variables (exporter,
 * endpoint, protocol, headers, sampler, resource). agentwire exports traces only: its metrics are
 * Prometheus's (/metrics), so the SDK's metrics and logs exporters default to none here. Without
 * the SDK installed, `--otel` is a usage error and the variables alone a warning.
 */
export async function startTracing(
  why: 'flag' | 'env',
  warn: (message: string) => void,
  env: NodeJS.ProcessEnv = process.env,
  sdkPackage: string = OTEL_SDK_PACKAGE,
): Promise<Tracing | undefined> {
  let sdk: NodeSdkModule;
  try {
    sdk = (await import(sdkPackage)) as NodeSdkModule;
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    const hint = `Tracing needs the OpenTelemetry Node SDK: npm install ${sdkPackage}`;
    if (why === 'flag') throw new UsageError(`${hint} (or leave out --otel).`);
    warn(`${hint}; OTEL_* variables are set, but the gateway runs without tracing.`);
    return undefined;
  }
  env.OTEL_METRICS_EXPORTER ??= 'none';
  env.OTEL_LOGS_EXPORTER ??= 'none';
  const instance = new sdk.NodeSDK(env.OTEL_SERVICE_NAME ? {} : { serviceName: 'agentwire' });
  instance.start();
  return { shutdown: () => instance.shutdown() };
}
