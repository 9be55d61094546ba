import { connect } from '@agentwire/agent';
import { wire } from '@agentwire/ai-sdk';
import { isStepCount, tool, type LanguageModel } from 'ai';
import { z } from 'zod';

/** Asks `model` about the weather in Paris, as a task people watch, cancel and approve. */
export async function forecast(model: LanguageModel): Promise<string> {
  const aw = connect({
    url: process.env.AGENTWIRE_URL ?? 'http://localhost:7070',
    token: process.env.AGENTWIRE_TOKEN, // a producer token: npx agentwire token --publish
  });
  const result = wire(aw, { task: { title: 'Weather in Paris' } }).streamText({
    model,
    prompt: 'What is the weather in Paris?',
    tools: {
      weather: tool({
        description: 'The weather in a city',
        inputSchema: z.object({ city: z.string() }),
        execute: async ({ city }) => ({ city, sky: 'sunny', celsius: 21 }),
      }),
    },
    toolApproval: { weather: 'user-approval' }, // each call waits for a watcher's "approve"
    stopWhen: isStepCount(5),
  });
  let answer = '';
  for await (const text of result.textStream) answer += text;
  await aw.close();
  return answer;
}
