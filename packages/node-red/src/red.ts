// The part of Node-RED's runtime API these nodes use, typed here (the node-red package ships no types and
// is not a runtime dependency: Node-RED loads the nodes and hands them `RED`).

/** A message as it travels through a flow. */
export interface NodeMessage {
  _msgid?: string;
  topic?: string;
  payload?: unknown;
  [key: string]: unknown;
}

/** A node's status: a dot or ring of a colour and a short text under the node. `{}` clears it. */
export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

/** Sends on the node's outputs: one message, or one entry (a message, an array of them, null) per output. */
export type SendFunction = (msg: NodeMessage | (NodeMessage | NodeMessage[] | null)[] | null) => void;
/** Ends the handling of a message; with an error, the runtime reports it as `node.error(err, msg)`. */
export type DoneFunction = (err?: unknown) => void;

/** A node instance, as Node-RED builds it (`RED.nodes.createNode(this, config)` fills it in). */
export interface RedNode {
  readonly id: string;
  readonly type: string;
  readonly z?: string;
  name?: string;
  status(status: NodeStatus): void;
  send: SendFunction;
  /** Logs an error; with a message, Catch nodes on the tab receive it (with `msg.error`). */
  error(error: unknown, msg?: NodeMessage): void;
  warn(message: unknown): void;
  log(message: unknown): void;
  debug(message: unknown): void;
  trace(message: unknown): void;
  on(event: 'input', listener: (msg: NodeMessage, send: SendFunction, done: DoneFunction) => void): this;
  on(event: 'close', listener: (removed: boolean, done: () => void) => void): this;
}

/** The settings object of a node as saved by the editor (the `defaults` of its HTML definition). */
export interface NodeDefinition {
  id: string;
  type: string;
  name?: string;
  z?: string;
  [key: string]: unknown;
}

/** The `RED` object Node-RED passes to a node module. */
export interface NodeAPI {
  nodes: {
    createNode(node: object, config: NodeDefinition): void;
    // biome-ignore lint/suspicious/noExplicitAny: Node-RED calls the constructor with `new` and its own `this`
    registerType(type: string, ctor: (this: any, config: any) => void, options?: object): void;
    getNode(id: string): unknown;
  };
  version?(): string;
}

/** What every node module exports: Node-RED calls it once with `RED` when it loads the module. */
export type NodeModule = (RED: NodeAPI) => void;

/**
 * Registers a node type whose constructor is `setup`. Node-RED calls the registered function with `new` and
 * makes it inherit from its Node class; `setup` runs after `createNode` has filled the node in.
 */
export function registerNode<N extends RedNode, C extends NodeDefinition>(
  RED: NodeAPI,
  type: string,
  setup: (node: N, config: C) => void,
): void {
  RED.nodes.registerType(type, function LabwireNode(this: N, config: C) {
    RED.nodes.createNode(this, config);
    setup(this, config);
  });
}

/** The config node `id` points at, if it exists and has the expected type. */
export function configNode<T>(RED: NodeAPI, id: unknown, type: string): T | undefined {
  if (typeof id !== 'string' || id === '') return undefined;
  const node = RED.nodes.getNode(id) as { type?: string } | null;
  return node !== null && node !== undefined && node.type === type ? (node as T) : undefined;
}
