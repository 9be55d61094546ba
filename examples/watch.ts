import { createClient } from '@agentwire/client';

const token = process.env.AGENTWIRE_TOKEN; // a watcher token: npx agentwire token
const client = createClient({ url: 'http://localhost:7070', ...(token && { getToken: () => token }) });
const sub = client.subscribe(process.argv[2] ?? 'task:42');
sub.on('tool:executing', (data) => console.log(`${data.tool} started`));
sub.on('state', (state) => console.log(state?.status, state?.progress?.percent));
