// The real Node-RED runtime for the tests, through node-red-node-test-helper: flows are loaded into the
// runtime the global setup chose (4.x on Node 20, 5.x on Node 22), nodes are created, wired and closed by
// Node-RED itself. Helpers here only look: the status a node shows, the messages a node receives.

import { createRequire } from 'node:module';
import path from 'node:path';
import { waitFor } from '@labwire/testkit';
import { inject } from 'vitest';
import type { NodeMessage, NodeModule, NodeStatus } from '../src/red';

const require = createRequire(import.meta.url);

export interface TestNode {
  id: string;
  type: string;
  receive(msg: NodeMessage): void;
  on(event: 'input', listener: (msg: NodeMessage) => void): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
  off(event: string, listener: (...args: unknown[]) => void): void;
  [key: string]: unknown;
}

interface SpyCall {
  thisValue: unknown;
  args: unknown[];
}

export interface Helper {
  init(runtimePath: string, settings?: object): void;
  load(modules: NodeModule | NodeModule[], flow: object[], credentials?: object): Promise<void>;
  unload(): Promise<void>;
  setFlows(flow: object[], type?: 'full' | 'flows' | 'nodes'): Promise<void>;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  getNode(id: string): TestNode | null;
  log(): { getCalls(): SpyCall[] };
  _NodePrototype: { status: { getCalls(): SpyCall[] }; error: { getCalls(): SpyCall[] } };
  _RED: { version(): string };
  _redNodes: { setFlows(flow: object[], credentials: object, type: string): Promise<unknown> };
  _events: { on(event: string, listener: () => void): void; off(event: string, listener: () => void): void };
}

export const nodeRed = inject('nodeRed');
/** The helper, quiet while it looks for a runtime on its own (it prints what it did not find). */
function loadHelper(): Helper {
  const log = console.log;
  console.log = () => {};
  try {
    return require('node-red-node-test-helper') as Helper;
  } finally {
    console.log = log;
  }
}

export const helper = loadHelper();
helper.init(nodeRed.path);

/** A core node module of the runtime under test (`common/20-inject.js`, `function/15-change.js`, …). */
export function coreNode(file: string): NodeModule {
  const nodesDir = path.dirname(
    require.resolve('@node-red/nodes/package.json', { paths: [path.dirname(nodeRed.path)] }),
  );
  return require(path.join(nodesDir, 'core', file)) as NodeModule;
}

/** The node modules under test: the sources, or (TEST_DIST=1) the built files Node-RED itself loads. */
export async function labwireModules(): Promise<{
  optommp: NodeModule;
  pymodaq: NodeModule;
  cmdTcp: NodeModule;
}> {
  if (process.env.TEST_DIST === '1') {
    const dist = path.join(import.meta.dirname, '..', 'dist', 'nodes');
    return {
      optommp: require(path.join(dist, 'optommp.cjs')) as NodeModule,
      pymodaq: require(path.join(dist, 'pymodaq.cjs')) as NodeModule,
      cmdTcp: require(path.join(dist, 'cmd-tcp.cjs')) as NodeModule,
    };
  }
  const index = await import('node-red-contrib-labwire');
  return {
    optommp: index.registerOptommpNodes,
    pymodaq: index.registerPymodaqNodes,
    cmdTcp: index.registerCmdTcpNodes,
  };
}

export function node(id: string): TestNode {
  const n = helper.getNode(id);
  if (n === null) throw new Error(`no node ${id} in the running flow`);
  return n;
}

/** Every status a node has shown, oldest first. */
export function statuses(id: string): NodeStatus[] {
  const n = helper.getNode(id);
  return helper._NodePrototype.status
    .getCalls()
    .filter((c) => c.thisValue === n)
    .map((c) => c.args[0] as NodeStatus);
}

/** The status a node shows now. */
export function statusOf(id: string): NodeStatus | undefined {
  return statuses(id).at(-1);
}

/** Waits until the node's current status matches. */
export function waitForStatus(
  id: string,
  match: (s: NodeStatus) => boolean,
  timeoutMs = 10_000,
): Promise<NodeStatus> {
  return waitFor(
    () => {
      const s = statusOf(id);
      return s !== undefined && match(s) ? s : undefined;
    },
    { timeoutMs, message: `status of ${id} (now ${JSON.stringify(statusOf(id))})` },
  );
}

/** What node.error was called with for a node: [error, msg?] pairs. */
export function errorsOf(id: string): [unknown, NodeMessage | undefined][] {
  const n = helper.getNode(id);
  return helper._NodePrototype.error
    .getCalls()
    .filter((c) => c.thisValue === n)
    .map((c) => [c.args[0], c.args[1] as NodeMessage | undefined]);
}

/** Collects the messages a (helper) node receives. */
export function collect(id: string): NodeMessage[] {
  const out: NodeMessage[] = [];
  node(id).on('input', (msg: NodeMessage) => out.push(msg));
  return out;
}

/** Waits for the next message a node receives. */
export function nextMessage(id: string, timeoutMs = 10_000): Promise<NodeMessage> {
  const n = node(id);
  return new Promise<NodeMessage>((resolve, reject) => {
    const listener = (msg: unknown) => {
      clearTimeout(timer);
      resolve(msg as NodeMessage);
    };
    const timer = setTimeout(() => {
      n.off('input', listener);
      reject(new Error(`no message at ${id} within ${timeoutMs} ms`));
    }, timeoutMs);
    n.on('input', listener as (msg: NodeMessage) => void);
  });
}

/** Sends a message into a node and waits for the next message at `at`. */
export function roundTrip(
  into: string,
  msg: NodeMessage,
  at: string,
  timeoutMs = 10_000,
): Promise<NodeMessage> {
  const next = nextMessage(at, timeoutMs);
  node(into).receive(msg);
  return next;
}

export const TAB = { id: 'tab', type: 'tab', label: 'test' };

/** Config node types: every other node of a test flow is placed on the tab (Node-RED tells them apart by x, y). */
const CONFIG_TYPES = new Set(['labwire-mmp-device', 'labwire-pymodaq-server', 'labwire-cmdtcp-link']);

/** A flow on the test tab: flow nodes get a position (and the tab), config nodes stay global. */
export function onTab(nodes: object[]): object[] {
  return [
    TAB,
    ...nodes.map((n) => {
      const type = (n as { type: string }).type;
      return CONFIG_TYPES.has(type) ? n : { z: 'tab', x: 100, y: 100, ...n };
    }),
  ];
}

/** The control and bidirectional-formatting characters in `text` (what must never reach a status or log). */
export function unprintableIn(text: string): string[] {
  return [...text].filter((c) => {
    const code = c.codePointAt(0) ?? 0;
    return (
      code <= 0x1f ||
      (code >= 0x7f && code <= 0x9f) ||
      code === 0x061c ||
      code === 0x200e ||
      code === 0x200f ||
      (code >= 0x202a && code <= 0x202e) ||
      (code >= 0x2066 && code <= 0x2069)
    );
  });
}

/**
 * Deploys `flow` again into the running runtime (as the editor's Deploy button does) and waits until the new
 * flow has started. (The helper's own setFlows gives the runtime 300 ms to start the flow, which a loaded
 * machine does not always keep.)
 */
export async function redeploy(flow: object[], type: 'full' | 'flows' | 'nodes' = 'full'): Promise<void> {
  let started = false;
  const onStarted = () => {
    started = true;
  };
  helper._events.on('flows:started', onStarted);
  try {
    await helper._redNodes.setFlows(flow, {}, type);
    await waitFor(() => started, { timeoutMs: 30_000, message: 'flows:started after a deploy' });
  } finally {
    helper._events.off('flows:started', onStarted);
  }
}
