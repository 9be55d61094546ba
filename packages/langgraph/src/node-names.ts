/**
 * The node names of a compiled graph, in the order they were added, without LangGraph's own
 * `__start__`: the `stages` to give `startTask` when nodes run as stages.
 */
export function nodeNames(graph: { nodes: Record<string, unknown> }): string[] {
  return Object.keys(graph.nodes).filter((name) => !(name.startsWith('__') && name.endsWith('__')));
}
