import { connect } from '@agentwire/agent';
import { startDemoWorkload } from '../demo/index.js';
import { gatewaySpecs } from '../gateway-options.js';
import { helpText } from '../options.js';
import { nextSteps, printUrls, startFromArgs, stopOnSignals } from './serve.js';

export const demoHelp = helpText(
  'agentwire demo [options]',
  'Run the gateway with a live demo workload: a swarm of agents planning, researching and synthesizing.',
  gatewaySpecs,
);

export async function demo(argv: string[]): Promise<void> {
  const gateway = await startFromArgs(argv, demoHelp);
  if (!gateway) return;
  const producer = connect({ publisher: gateway });
  const workload = startDemoWorkload(producer, {
    logger: (msg) => gateway.logger.debug(msg),
  });
  stopOnSignals(gateway, async () => {
    await workload.stop();
    await producer.close();
  });
  printUrls(gateway, nextSteps(gateway));
}
