/**
 * Preloaded (`node --import`) by the README test: every model name resolves to the SDK's own
 * scripted model, so the README's example runs as written with no network.
 */
import { Usage, setDefaultModelProvider } from '@openai/agents';
import { ScriptedModel, assistantMessage, functionCall, modelStream } from '@openai/agents-core/testing';

const usage = new Usage({ requests: 1, inputTokens: 20, outputTokens: 8, totalTokens: 28 });
const answer = ['It is sunny ', 'and 21 °C ', 'in Paris.'];
const model = new ScriptedModel([
  { output: [functionCall('get_weather', { city: 'Paris' }, { callId: 'call_weather_1' })], usage },
  modelStream([
    { type: 'response_started' },
    ...answer.map((delta) => ({ type: 'output_text_delta' as const, delta })),
    {
      type: 'response_done',
      response: { id: 'resp_answer', usage, output: [assistantMessage(answer.join(''))] },
    },
  ]),
]);
setDefaultModelProvider({ getModel: () => model });
