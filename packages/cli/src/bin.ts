#!/usr/bin/env node
import { AgentwireError } from '@agentwire/protocol';
import { ConfigError } from '@agentwire/server';
import { bridge, bridgeHelp } from './commands/bridge.js';
import { demo, demoHelp } from './commands/demo.js';
import { publish, publishHelp } from './commands/publish.js';
import { serve, serveHelp } from './commands/serve.js';
import { tail, tailHelp } from './commands/tail.js';
import { token, tokenHelp } from './commands/token.js';
import { UsageError } from './options.js';

const commands: Record<string, { run: (argv: string[]) => Promise<void>; help: string; summary: string }> = {
  serve: { run: serve, help: serveHelp, summary: 'run the gateway' },
  demo: { run: demo, help: demoHelp, summary: 'run the gateway with a live demo workload' },
  tail: { run: tail, help: tailHelp, summary: 'watch a task live in the terminal' },
  publish: { run: publish, help: publishHelp, summary: 'publish events from a shell' },
  token: { run: token, help: tokenHelp, summary: "mint a token with the local gateway's secret" },
  bridge: { run: bridge, help: bridgeHelp, summary: 'run tasks on an AG-UI agent endpoint' },
};

const usage = `agentwire: a real-time gateway between AI agents and the people who watch and steer them.

Usage: agentwire <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run agentwire <command> --help for its options.
`;

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage);
    return;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`Unknown command ${JSON.stringify(name)}.\n\n${usage}`);
  await command.run(rest);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError || err instanceof ConfigError) {
    process.stderr.write(`agentwire: ${err.message}\n`);
    process.exit(2);
  }
  if (err instanceof AgentwireError) {
    process.stderr.write(`agentwire: ${err.code}: ${err.message}\n`);
    process.exit(1);
  }
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EADDRINUSE') {
    process.stderr.write(`agentwire: the port is already in use (${e.message}). Pick another with --port.\n`);
    process.exit(1);
  }
  // The system refused something (a file, a folder, an address): its own words say what.
  if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) {
    process.stderr.write(`agentwire: ${e.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`agentwire: ${e.stack ?? String(err)}\n`);
  process.exit(1);
});
