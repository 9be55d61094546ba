import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isStreamName,
  PROJECT_STREAM_PREFIX,
  projectIdOf,
  projectStream,
  TASK_STREAM_PREFIX,
  taskIdOf,
  taskStream,
} from './streams.js';

describe('stream names', () => {
  it('builds and parses task and project streams as inverses', () => {
    for (const id of ['42', 'a.b~c', '0190a1b2-7c3d']) {
      assert.equal(taskIdOf(taskStream(id)), id);
      assert.equal(projectIdOf(projectStream(id)), id);
      assert.ok(isStreamName(taskStream(id)) && isStreamName(projectStream(id)));
    }
    assert.equal(taskStream('42'), `${TASK_STREAM_PREFIX}42`);
    assert.equal(projectStream('acme'), `${PROJECT_STREAM_PREFIX}acme`);
  });

  it('tells no id for another kind of stream', () => {
    assert.equal(taskIdOf('project:acme'), undefined);
    assert.equal(projectIdOf('task:42'), undefined);
    assert.equal(taskIdOf('system'), undefined);
    assert.equal(taskIdOf('tasks:1'), undefined);
    assert.equal(projectIdOf('projects:1'), undefined);
  });
});
