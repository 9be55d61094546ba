import { runEngineSuite } from '../testing/engine-suite.js';
import { MemoryEngine } from './memory.js';

runEngineSuite({ name: 'memory', create: () => new MemoryEngine() });
