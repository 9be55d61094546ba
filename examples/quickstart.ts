import { connect } from '@agentwire/agent';

const aw = connect({
  url: process.env.AGENTWIRE_URL ?? 'http://localhost:7070',
  token: process.env.AGENTWIRE_TOKEN, // a producer token: npx agentwire token --publish
});
const task = await aw.startTask({ title: 'Find the best vector database' });
const agent = await task.spawnAgent({ name: 'researcher', model: 'gpt-4o' });
const hits = await agent.tool('search', { q: 'vector databases' }, async () => ['pgvector', 'qdrant']);
await agent.log('info', `found ${hits.length} candidates`);
await agent.complete({ hits });
await task.complete({ shortlist: hits });
await aw.close();
console.log(`published ${task.stream}`);
