import { connect } from '@agentwire/agent';
import { runGraph } from '@agentwire/langgraph';
import { AIMessage, AIMessageChunk, HumanMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { FakeListChatModel, FakeStreamingChatModel } from '@langchain/core/utils/testing';
import { END, interrupt, MemorySaver, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
import { ToolNode } from '@langchain/langgraph/prebuilt';
import { z } from 'zod';

// Your graph, as it is. Fake models stand in for ChatOpenAI, ChatAnthropic, …
const add = tool(async ({ a, b }) => a + b, {
  name: 'add',
  description: 'Adds two numbers.',
  schema: z.object({ a: z.number(), b: z.number() }),
});
const planner = new FakeStreamingChatModel({
  chunks: [
    new AIMessageChunk({ content: '', tool_calls: [{ id: 'call_1', name: 'add', args: { a: 2, b: 3 } }] }),
  ],
});
const writer = new FakeListChatModel({ responses: ['2 + 3 = 5.'] });

const graph = new StateGraph(MessagesAnnotation)
  .addNode('planner', async ({ messages }) => ({
    messages: [await planner.bindTools([add]).invoke(messages)],
  }))
  .addNode('tools', new ToolNode([add]))
  .addNode('writer', async ({ messages }) => ({ messages: [await writer.invoke(messages)] }))
  .addNode('approve', () => {
    const send = interrupt({ question: 'Send the answer?', options: ['yes', 'no'] });
    return { messages: [new AIMessage(send === 'yes' ? 'Sent.' : 'Not sent.')] };
  })
  .addEdge(START, 'planner')
  .addEdge('planner', 'tools')
  .addEdge('tools', 'writer')
  .addEdge('writer', 'approve')
  .addEdge('approve', END)
  .compile({ checkpointer: new MemorySaver() });

// On agentwire: connect, start a task, run the graph in it.
const aw = connect({ url: process.env.AGENTWIRE_URL ?? 'http://localhost:7070' });
const task = await aw.startTask({ title: 'What is 2 + 3?' });
const state = await runGraph(task, graph, { messages: [new HumanMessage('What is 2 + 3?')] });
console.log(state.messages.at(-1)?.content);
await aw.close();
