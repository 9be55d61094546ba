#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { installNchan, type ServerKind } from './server-proc.js';
import { ALL_SERVERS, fdLimit, runBench, SCENARIOS, type ScenarioName } from './run.js';
import { renderTable } from './table.js';

const USAGE = `usage: npm run bench -- [scenario...] [--quick] [--servers=agentwire,ws,socketio,nchan] [--markdown] [--cpu-prof=DIR] [--no-pin] [--tasks=N]
scenarios: ${SCENARIOS.join(', ')} (also: broadcast, idle); default: all
--tasks=N: tasks streaming at once in \`tokens\` (default 200; the full size is 1000)`;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const flag = (name: string): string | undefined =>
  args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const pin = !args.includes('--no-pin') && cpus().length >= 2;

// Run again with the open-file limit raised as far as allowed, ahead of ordinary processes for
// the CPU where that is allowed (other work on a shared machine skews every figure), and pinned
// to the load core; the servers are then started on the other core. Children inherit all three.
if (pin && process.env.BENCH_PINNED !== '1') {
  const self = [process.execPath, fileURLToPath(import.meta.url), ...args]
    .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  const script = `ulimit -n 1048576 2>/dev/null || ulimit -n hard 2>/dev/null; renice -n -10 -p $$ >/dev/null 2>&1; exec taskset -c 1 ${self}`;
  const r = spawnSync('bash', ['-c', script], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_PINNED: '1' },
  });
  process.exit(r.status ?? 1);
}

const wanted = args.filter((a) => !a.startsWith('--'));
const scenarios =
  wanted.length === 0
    ? [...SCENARIOS]
    : wanted.flatMap((w): ScenarioName[] => {
        if (w === 'broadcast') return ['broadcast-1k', 'broadcast-10k'];
        if (w === 'idle') return ['idle-10k', 'idle-50k'];
        if ((SCENARIOS as readonly string[]).includes(w)) return [w as ScenarioName];
        console.error(`unknown scenario ${w}\n${USAGE}`);
        process.exit(2);
      });
const servers = (flag('servers')?.split(',') ?? ALL_SERVERS) as ServerKind[];
if (servers.includes('nchan')) installNchan();
const cpuProfDir = flag('cpu-prof');
if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });

const scale = args.includes('--quick') ? 'quick' : 'full';
const machine = `${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node ${process.version}`;
console.error(
  `agentwire bench (${scale}): ${machine}; open files ${fdLimit()}; ${pin ? 'server on core 0, load on core 1' : 'unpinned'}`,
);
// Other work on the machine skews every figure: say how busy it was around the run.
const busy = (): string => {
  let pressure = '';
  try {
    pressure = `, cpu pressure ${/avg60=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1]}%`;
  } catch {
    // No pressure stall information on this kernel: the load average has to do.
  }
  return `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}${pressure}`;
};
const before = busy();
const started = Date.now();
const rows = await runBench({
  scenarios,
  scale,
  servers,
  ...(pin && { serverCore: 0 }),
  ...(flag('workers') && { workers: Number(flag('workers')) }),
  ...(cpuProfDir && { cpuProfDir }),
  ...(flag('tasks') && { tokensTasks: Number(flag('tasks')) }),
});
console.log(
  `\n${machine}\nbefore: ${before}; after: ${busy()}; took ${Math.round((Date.now() - started) / 1000)} s\n`,
);
console.log(renderTable(rows, args.includes('--markdown')));
