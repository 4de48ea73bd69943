// Driving PyMoDAQ instruments from a flow: `labwire-pymodaq-server` (config) runs a labwire PymodaqServer
// (what PyMoDAQ's TCPServer plugins do) that instruments connect to, optionally with simulated
// instruments of its own (a SimulatedStage actuator and a GaussianDetector camera, connected over
// loopback); `labwire-pymodaq-command` sends it commands: moves, position queries, stop, grabs, set_info.

import {
  GaussianDetector,
  GRAB_DIMS,
  type GrabDim,
  PymodaqActuator,
  PymodaqDetector,
  PymodaqServer,
  parameter,
  type ServerRole,
  SimulatedStage,
} from '@labwire/pymodaq';
import { type Position, resolveProfile } from '@labwire/pymodaq/codec';
import { onClose } from '../close';
import { booleanSetting, choiceSetting, isBlank, numberSetting, SettingError, textSetting } from '../config';
import { nodeLogger } from '../logger';
import { type NodeAPI, type NodeDefinition, type NodeMessage, type RedNode, registerNode } from '../red';
import { heldByConfigNode, linkStatus, reasonOf } from '../status';
import { dataToFlow } from './data';

export const PYMODAQ_SERVER = 'labwire-pymodaq-server';
export const PYMODAQ_COMMAND = 'labwire-pymodaq-command';

export const COMMANDS = [
  'move_abs',
  'move_rel',
  'move_home',
  'get_actuator_value',
  'stop_motion',
  'grab',
  'set_info',
] as const;
export type Command = (typeof COMMANDS)[number];

export interface ServerState {
  state: 'starting' | 'listening' | 'error';
  address?: { host: string; port: number };
  actuators: number;
  detectors: number;
  error?: unknown;
}

/** The server a `labwire-pymodaq-server` node runs, its simulated instruments and its state. */
export class ServerHandle {
  readonly server: PymodaqServer;
  readonly #listeners = new Set<(state: ServerState) => void>();
  readonly #simulated: (PymodaqActuator | PymodaqDetector)[] = [];
  #state: ServerState = { state: 'starting', actuators: 0, detectors: 0 };
  readonly ready: Promise<void>;
  #closing: Promise<void> | undefined;

  constructor(
    server: PymodaqServer,
    listen: { simulateStage: boolean; simulateCamera: boolean; units: string },
    onError: (error: unknown) => void,
  ) {
    this.server = server;
    const count = () => {
      let actuators = 0;
      let detectors = 0;
      for (const c of server.clients) {
        if (c.type === 'ACTUATOR') actuators++;
        else detectors++;
      }
      this.#set({ ...this.#state, actuators, detectors });
    };
    server.on('client', count);
    server.on('clientClosed', count);
    this.ready = server.listen().then(
      (address) => {
        this.#set({ ...this.#state, state: 'listening', address });
        if (this.#closing !== undefined) return;
        const common = { protocol: server.profile.generation, host: '127.0.0.1', port: address.port };
        if (listen.simulateStage && server.role !== 'detector') {
          const stage = new SimulatedStage({ speed: 10, units: listen.units });
          this.#simulated.push(
            new PymodaqActuator({ ...common, units: listen.units, handlers: stage.handlers() }),
          );
        }
        if (listen.simulateCamera && server.role !== 'actuator') {
          const camera = new GaussianDetector({ width: 32, height: 24, name: 'camera' });
          this.#simulated.push(new PymodaqDetector({ ...common, handlers: camera.handlers() }));
        }
        for (const client of this.#simulated) {
          client.connect().catch((error: unknown) => {
            if (this.#closing === undefined) onError(error);
          });
        }
      },
      (error: unknown) => {
        this.#set({ ...this.#state, state: 'error', error });
        onError(error);
      },
    );
  }

  get state(): ServerState {
    return this.#state;
  }

  /** Follows the server's state (called at once with the current one). */
  watch(listener: (state: ServerState) => void): () => void {
    this.#listeners.add(listener);
    listener(this.#state);
    return () => this.#listeners.delete(listener);
  }

  #set(state: ServerState): void {
    this.#state = state;
    for (const listener of this.#listeners) listener(state);
  }

  /** Closes the simulated instruments, then the server (Quit to every client). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#listeners.clear();
      await this.ready.catch(() => undefined);
      await Promise.all(this.#simulated.map((c) => c.close()));
      await this.server.close();
    })();
    return this.#closing;
  }
}

interface ServerNode extends RedNode {
  handle: ServerHandle | undefined;
  settingsError: unknown;
}

function serverStatus(state: ServerState) {
  if (state.state === 'starting') return linkStatus('connecting', 'starting');
  if (state.state === 'error') return linkStatus('error', 'server', state.error);
  const where = state.address === undefined ? '' : `${state.address.host}:${state.address.port}`;
  const clients = state.actuators + state.detectors;
  if (clients === 0) return linkStatus('idle', `${where}, no instrument`);
  return linkStatus('connected', `${where}, ${state.actuators} act. ${state.detectors} det.`);
}

function numberPayload(msg: NodeMessage, what: string): number {
  const p = msg.payload;
  const n = typeof p === 'number' ? p : typeof p === 'string' && p.trim() !== '' ? Number(p) : Number.NaN;
  if (!Number.isFinite(n)) throw new SettingError('payload', `${what}: expected a number`);
  return n;
}

/** Runs one command against the server; resolves with the message to send on. */
async function runCommand(
  server: PymodaqServer,
  command: Command,
  dim: GrabDim,
  msg: NodeMessage,
  options: { client?: string; timeoutMs?: number; signal: AbortSignal },
): Promise<NodeMessage> {
  const position = (p: Position): NodeMessage => ({ ...msg, payload: p.value, units: p.units });
  switch (command) {
    case 'move_abs':
      return position(await server.moveAbs(numberPayload(msg, 'move_abs'), options));
    case 'move_rel':
      return position(await server.moveRel(numberPayload(msg, 'move_rel'), options));
    case 'move_home':
      return position(await server.moveHome(options));
    case 'get_actuator_value':
      return position(await server.getActuatorValue(options));
    case 'stop_motion':
      await server.stopMotion(options);
      return msg;
    case 'grab': {
      const data = await server.grab(dim, options);
      return { ...msg, payload: dataToFlow(data) };
    }
    case 'set_info': {
      const p = msg.payload as { path?: unknown; value?: unknown; type?: unknown } | null;
      const path = typeof p?.path === 'string' ? p.path.split('/').filter((s) => s !== '') : p?.path;
      if (!Array.isArray(path) || path.length === 0 || !path.every((s) => typeof s === 'string'))
        throw new SettingError('payload', 'set_info: expected { path: "group/name" or [..], value, type }');
      const type = typeof p?.type === 'string' ? p.type : typeof p?.value === 'number' ? 'float' : 'str';
      const node = parameter(path[path.length - 1] as string, { type, value: String(p?.value ?? '') });
      await server.setInfo(path as string[], node, options);
      return msg;
    }
  }
}

export function registerServerNodes(RED: NodeAPI): void {
  registerNode<ServerNode, NodeDefinition>(RED, PYMODAQ_SERVER, (node, config) => {
    node.handle = undefined;
    node.settingsError = undefined;
    try {
      const protocol = textSetting(config.protocol, 'D');
      resolveProfile(protocol);
      const role = choiceSetting<ServerRole>('role', config.role, ['both', 'actuator', 'detector'], 'both');
      const server = new PymodaqServer({
        protocol,
        role,
        host: textSetting(config.host, '127.0.0.1'),
        port: numberSetting('port', config.port, 6341, { integer: true, min: 0, max: 65_535 }),
        timeoutMs: numberSetting('timeout', config.timeout, 10, { min: 0.001, max: 3600 }) * 1000,
        moveTimeoutMs:
          numberSetting('move timeout', config.moveTimeout, 60, { min: 0.001, max: 86_400 }) * 1000,
        logger: nodeLogger(node),
      });
      node.handle = new ServerHandle(
        server,
        {
          simulateStage: booleanSetting(config.simulateStage),
          simulateCamera: booleanSetting(config.simulateCamera),
          units: textSetting(config.units, 'mm'),
        },
        (error) => node.error(`server: ${reasonOf(error)}`),
      );
    } catch (error) {
      node.settingsError = error;
      node.error(`settings: ${reasonOf(error)}`);
    }
    onClose(
      node,
      () => {
        const handle = node.handle;
        node.handle = undefined;
        return handle?.close();
      },
      { clearStatus: false },
    );
  });

  registerNode<RedNode, NodeDefinition>(RED, PYMODAQ_COMMAND, (node, config) => {
    const handle = heldByConfigNode(RED, node, config.server, PYMODAQ_SERVER, (n: ServerNode) => n.handle, {
      noun: 'server',
      choose: 'a PyMoDAQ server',
    });
    if (handle === undefined) return;
    const fixed = textSetting(config.command, 'topic');
    const dimSetting = textSetting(config.dim, '0D');
    const clientSetting = textSetting(config.client);
    const timeoutSetting = config.timeout;
    const closing = new AbortController();
    const unwatch = handle.watch((state) => node.status(serverStatus(state)));
    node.on('input', (msg, send, done) => {
      let command: Command;
      let dim: GrabDim;
      let timeoutMs: number | undefined;
      try {
        command = choiceSetting('command', fixed === 'topic' ? msg.topic : fixed, COMMANDS, undefined);
        dim = choiceSetting('dim', isBlank(config.dim) ? msg.dim : dimSetting, GRAB_DIMS, '0D');
        timeoutMs = isBlank(timeoutSetting)
          ? undefined
          : numberSetting('timeout', timeoutSetting, 10, { min: 0.001 }) * 1000;
      } catch (error) {
        return done(error);
      }
      const client =
        clientSetting !== '' ? clientSetting : typeof msg.client === 'string' ? msg.client : undefined;
      handle.ready
        .then(() =>
          runCommand(handle.server, command, dim, msg, {
            signal: closing.signal,
            ...(client === undefined ? {} : { client }),
            ...(timeoutMs === undefined ? {} : { timeoutMs }),
          }),
        )
        .then(
          (out) => {
            if (closing.signal.aborted) return done();
            send(out);
            done();
          },
          (error: unknown) => {
            if (closing.signal.aborted) return done();
            done(error);
          },
        );
    });
    onClose(node, () => {
      closing.abort();
      unwatch();
      return undefined;
    });
  });
}
