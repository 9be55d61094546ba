import { connect } from '@agentwire/agent';
import { DEFAULT_DEMO_CAPACITY, DEMO_KINDS, startDemoWorker, startDemoWorkload } from '../demo/index.js';
import { gatewaySpecs } from '../gateway-options.js';
import { helpText, parseInteger, parseOptions, type OptionSpecs } from '../options.js';
import { nextSteps, printUrls, startFromArgs, stopOnSignals } from './serve.js';

const demoSpecs: OptionSpecs = {
  ...gatewaySpecs,
  'demo-capacity': {
    type: 'string',
    env: 'AGENTWIRE_DEMO_CAPACITY',
    default: String(DEFAULT_DEMO_CAPACITY),
    description: `Started tasks (kinds ${DEMO_KINDS.join(', ')}) the demo runs at once; more get no_worker`,
  },
};

export const demoHelp = helpText(
  'agentwire demo [options]',
  'Run the gateway with a live demo workload: a swarm of agents planning, researching and synthesizing, which also runs the tasks watchers start.',
  demoSpecs,
);

export async function demo(argv: string[]): Promise<void> {
  const { values } = parseOptions(argv, demoSpecs);
  const capacity = values.help ? 0 : parseInteger(String(values['demo-capacity']), 'demo-capacity', 1);
  const gateway = await startFromArgs(argv, demoHelp, demoSpecs);
  if (!gateway) return;
  const producer = connect({ publisher: gateway });
  const logger = (msg: string) => gateway.logger.debug(msg);
  const workload = startDemoWorkload(producer, { logger });
  const starts = startDemoWorker(producer, { capacity, logger });
  stopOnSignals(gateway, async () => {
    await Promise.all([workload.stop(), starts.stop()]);
    await producer.close();
  });
  printUrls(gateway, nextSteps(gateway));
}
