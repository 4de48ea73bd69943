// A flow as a remote PyMoDAQ instrument: `labwire-pymodaq-actuator` and `labwire-pymodaq-detector` connect
// to a PyMoDAQ TCPServer plugin (DAQ_Move / DAQ_Viewer, any generation) and hand its commands to the flow.
//
// A command the flow must answer leaves the node as a message carrying `msg._pymodaq` (a token); the flow
// answers by sending a message with the same `_pymodaq` back into the node (Node-RED keeps message
// properties along a flow, so the request message itself, with its payload set, is the answer: the
// http-in / http-response pattern). Answers have the client's handler deadline ("answer within"); a
// request not answered in time is reported with node.error(err, request) and the instrument tells PyMoDAQ
// what it can (a move still ends with move_done and the last known position, as PyMoDAQ needs).

import { AbortedError, TimeoutError } from '@labwire/framing';
import {
  type ActuatorHandlers,
  type GrabDim,
  HandlerError,
  type MoveContext,
  PymodaqActuator,
  PymodaqDetector,
} from '@labwire/pymodaq';
import { resolveProfile } from '@labwire/pymodaq/codec';
import { onClose } from '../close';
import { choiceSetting, numberSetting, textSetting } from '../config';
import { nodeLogger } from '../logger';
import { type NodeAPI, type NodeDefinition, type NodeMessage, type RedNode, registerNode } from '../red';
import { linkStatus, reasonOf } from '../status';
import { dataFromFlow } from './data';

export const PYMODAQ_ACTUATOR = 'labwire-pymodaq-actuator';
export const PYMODAQ_DETECTOR = 'labwire-pymodaq-detector';

/** The token on a request message; an answer carries it back. */
export interface RequestToken {
  id: string;
  command: string;
}

/** Requests waiting for the flow's answer, by token id. */
class Requests {
  readonly #pending = new Map<string, { resolve(msg: NodeMessage): void; request: NodeMessage }>();
  readonly #node: RedNode;
  #next = 0;

  constructor(node: RedNode) {
    this.#node = node;
  }

  get size(): number {
    return this.#pending.size;
  }

  /**
   * Sends a request into the flow and resolves with the message that answers it. The signal (the handler's:
   * stop_motion, close, a lost link, the deadline) ends the wait; a deadline is reported against the request.
   */
  ask(command: string, fields: NodeMessage, signal: AbortSignal): Promise<NodeMessage> {
    const id = `${this.#node.id}.${++this.#next}`;
    const request: NodeMessage = {
      ...fields,
      topic: command,
      _pymodaq: { id, command } satisfies RequestToken,
    };
    return new Promise<NodeMessage>((resolve, reject) => {
      const onAbort = () => {
        this.#pending.delete(id);
        const reason: unknown = signal.reason;
        if (TimeoutError.isInstance(reason)) {
          this.#node.error(
            new TimeoutError(`the flow did not answer ${command} (msg._pymodaq.id ${id})`, reason.timeoutMs),
            request,
          );
        }
        reject(reason instanceof Error ? reason : new AbortedError(command, reason));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        request,
        resolve: (msg) => {
          signal.removeEventListener('abort', onAbort);
          resolve(msg);
        },
      });
      this.#node.send(request);
    });
  }

  /** Hands an answer to its request; false when no request waits for it (answered already, timed out). */
  answer(msg: NodeMessage): boolean {
    const token = msg._pymodaq as Partial<RequestToken> | undefined;
    const id = typeof token?.id === 'string' ? token.id : undefined;
    const entry = id === undefined ? undefined : this.#pending.get(id);
    if (entry === undefined || id === undefined) return false;
    this.#pending.delete(id);
    entry.resolve(msg);
    return true;
  }
}

interface ClientSettings {
  protocol: string;
  host: string;
  port: number;
  timeoutMs: number;
  handlerTimeoutMs: number;
}

function clientSettings(config: NodeDefinition): ClientSettings {
  const protocol = textSetting(config.protocol, 'D');
  resolveProfile(protocol); // throws UnknownProfileError for a generation or version that does not exist
  return {
    protocol,
    host: textSetting(config.host, '127.0.0.1'),
    port: numberSetting('port', config.port, 6341, { integer: true, min: 1, max: 65_535 }),
    timeoutMs: numberSetting('timeout', config.timeout, 10, { min: 0.001, max: 3600 }) * 1000,
    handlerTimeoutMs:
      numberSetting('answer within', config.answerTimeout, 60, { min: 0.001, max: 86_400 }) * 1000,
  };
}

/** Status and lifecycle shared by both instrument nodes. */
function followClient(node: RedNode, client: PymodaqActuator | PymodaqDetector, where: string): void {
  let connected = false;
  node.status(linkStatus('connecting', where));
  client.on('connected', () => {
    connected = true;
    node.status(linkStatus('connected', `${where} (${client.profile.generation})`));
  });
  client.on('disconnected', (e) => {
    connected = false;
    node.status(linkStatus('reconnecting', where, e.error ?? e.reason));
  });
  client.on('serverQuit', () => node.status(linkStatus('reconnecting', where, 'the server said Quit')));
  client.on('error', (error) => {
    // A handler's failure is the flow's (reported against its request); the rest is the link's.
    if (HandlerError.isInstance(error)) return;
    node.error(`PyMoDAQ link: ${reasonOf(error)}`);
    if (!connected) node.status(linkStatus('reconnecting', where, error));
  });
  client.connect({ timeoutMs: 2 ** 31 - 1 }).catch((error: unknown) => {
    if (!client.connected) node.status(linkStatus('reconnecting', where, error));
  });
}

function closeOnRedeploy(node: RedNode, client: PymodaqActuator | PymodaqDetector): void {
  // close() says Quit (PyMoDAQ's server spins on a silent disconnect), aborts every handler and with it
  // every request still waiting for the flow.
  onClose(node, () => client.close());
}

function positionOf(msg: NodeMessage): number | undefined {
  const p = msg.payload;
  if (typeof p === 'number' && Number.isFinite(p)) return p;
  if (typeof p === 'string' && p.trim() !== '' && Number.isFinite(Number(p))) return Number(p);
  return undefined;
}

export function registerInstrumentNodes(RED: NodeAPI): void {
  registerNode<RedNode, NodeDefinition>(RED, PYMODAQ_ACTUATOR, (node, config) => {
    let settings: ClientSettings;
    try {
      settings = clientSettings(config);
    } catch (error) {
      node.status(linkStatus('error', 'settings', error));
      node.error(`settings: ${reasonOf(error)}`);
      return;
    }
    const units = textSetting(config.units);
    const askPosition =
      choiceSetting('position queries', config.positionQuery, ['last', 'flow'], 'last') === 'flow';
    const requests = new Requests(node);
    let position = numberSetting('initial position', config.initialPosition, 0);
    const move = async (command: string, value: number | undefined, ctx: MoveContext, expected: number) => {
      const reply = await requests.ask(
        command,
        { payload: value, units: ctx.units, targetUnits: ctx.targetUnits },
        ctx.signal,
      );
      // No number in the answer: the move reached its target.
      position = positionOf(reply) ?? expected;
      return position;
    };
    const handlers: ActuatorHandlers = {
      moveAbs: (target, ctx) => move('move_abs', target, ctx, target),
      moveRel: (offset, ctx) => move('move_rel', offset, ctx, position + offset),
      moveHome: (ctx) => move('move_home', undefined, ctx, 0),
      async getActuatorValue({ signal }) {
        if (!askPosition) return position;
        const reply = await requests.ask('get_actuator_value', { payload: position }, signal);
        position = positionOf(reply) ?? position;
        return position;
      },
      stopMotion() {
        node.send({ topic: 'stop_motion', payload: position });
      },
    };
    const actuator = new PymodaqActuator({
      protocol: settings.protocol,
      host: settings.host,
      port: settings.port,
      units,
      timeoutMs: settings.timeoutMs,
      handlerTimeoutMs: settings.handlerTimeoutMs,
      handlers,
      logger: nodeLogger(node),
    });
    actuator.on('setInfo', (e) =>
      node.send({ topic: 'set_info', payload: { path: e.path, value: e.parameter.value, xml: e.xml } }),
    );
    followClient(node, actuator, `${settings.host}:${settings.port}`);
    node.on('input', (msg, _send, done) => {
      if (msg._pymodaq !== undefined) {
        if (!requests.answer(msg))
          node.warn('an answer to a request that no longer waits (answered, stopped or timed out)');
        return done();
      }
      // Not an answer: the flow reports where the actuator is (answers position queries from now on).
      const p = positionOf(msg);
      if (p === undefined) return done(new TypeError(`expected a position (a number) in msg.payload`));
      position = p;
      done();
    });
    closeOnRedeploy(node, actuator);
  });

  registerNode<RedNode, NodeDefinition>(RED, PYMODAQ_DETECTOR, (node, config) => {
    let settings: ClientSettings;
    try {
      settings = clientSettings(config);
    } catch (error) {
      node.status(linkStatus('error', 'settings', error));
      node.error(`settings: ${reasonOf(error)}`);
      return;
    }
    const name = textSetting(config.name, 'node-red');
    const requests = new Requests(node);
    const detector = new PymodaqDetector({
      protocol: settings.protocol,
      host: settings.host,
      port: settings.port,
      timeoutMs: settings.timeoutMs,
      handlerTimeoutMs: settings.handlerTimeoutMs,
      handlers: {
        async grab(dim: GrabDim, { signal }) {
          const reply = await requests.ask('grab', { payload: dim }, signal);
          try {
            return dataFromFlow(reply.payload, name, dim);
          } catch (error) {
            node.error(error, reply);
            throw error;
          }
        },
      },
      logger: nodeLogger(node),
    });
    detector.on('setInfo', (e) =>
      node.send({ topic: 'set_info', payload: { path: e.path, value: e.parameter.value, xml: e.xml } }),
    );
    followClient(node, detector, `${settings.host}:${settings.port}`);
    node.on('input', (msg, _send, done) => {
      if (msg._pymodaq !== undefined) {
        if (!requests.answer(msg))
          node.warn('an answer to a request that no longer waits (answered or timed out)');
        return done();
      }
      // Not an answer: data the detector pushes unasked (PyMoDAQ shows it as it comes).
      let data: ReturnType<typeof dataFromFlow>;
      try {
        data = dataFromFlow(msg.payload, name);
      } catch (error) {
        return done(error);
      }
      detector.push(data).then(
        () => done(),
        (error: unknown) => done(error),
      );
    });
    closeOnRedeploy(node, detector);
  });
}
