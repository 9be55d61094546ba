import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  env?: string;
  default?: string;
  description: string;
  /** Repeatable flag; its values reach the caller joined with commas, like its env variable's. */
  multiple?: boolean;
}

export type OptionSpecs = Record<string, OptionSpec>;

export class UsageError extends Error {}

/**
 * Flags win over environment variables, which win over defaults; every flag documents its
 * variable in --help so deployments can configure without a command line.
 */
export function parseOptions(
  argv: string[],
  specs: OptionSpecs,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = spec.short ? { type: spec.type, short: spec.short } : { type: spec.type };
    if (spec.multiple) options[name].multiple = true;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const values = { ...parsed.values } as Record<string, string | boolean | undefined>;
  for (const [name, value] of Object.entries(parsed.values)) {
    if (Array.isArray(value)) values[name] = value.join(',');
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (values[name] !== undefined) continue;
    const fromEnv = spec.env ? process.env[spec.env] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') {
      values[name] = spec.type === 'boolean' ? /^(1|true|yes)$/i.test(fromEnv) : fromEnv;
    } else if (spec.default !== undefined) {
      values[name] = spec.type === 'boolean' ? spec.default === 'true' : spec.default;
    }
  }
  return { values, positionals: parsed.positionals };
}

export function helpText(usage: string, summary: string, specs: OptionSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ' <value>' : ''}`;
    const extra = [spec.env && `env ${spec.env}`, spec.default !== undefined && `default ${spec.default}`]
      .filter(Boolean)
      .join(', ');
    return `  ${flag.padEnd(30)} ${spec.description}${extra ? ` (${extra})` : ''}`;
  });
  return `${summary}\n\nUsage: ${usage}\n\nOptions:\n${rows.join('\n')}\n  -h, --help                     Show this help\n`;
}

/** Parses durations like 90s, 15m, 12h, 7d (or plain milliseconds). */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new UsageError(`Invalid duration ${JSON.stringify(text)}: use e.g. 30s, 15m, 12h, 7d.`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? 'ms']!;
  return Math.round(Number(match[1]) * unit);
}

export function parseInteger(text: string, name: string, min = 0): number {
  if (!/^\d+$/.test(text) || Number(text) < min)
    throw new UsageError(`--${name} must be an integer >= ${min}.`);
  return Number(text);
}
