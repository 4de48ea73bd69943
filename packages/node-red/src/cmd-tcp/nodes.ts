// The cmd_tcp nodes: `labwire-cmdtcp-link` (config: one conf_string, one link kept configured) and
// `labwire-cmdtcp` (one bus call per message: write, read, read_until, wrnrd, wrnrd_until, expect, with the
// `_bin` hex forms).

import type { TcpBus } from '@labwire/bus';
import { onClose } from '../close';
import { booleanSetting, choiceSetting, isBlank, numberSetting, SettingError, textSetting } from '../config';
import { nodeLogger } from '../logger';
import { type NodeAPI, type NodeDefinition, type NodeMessage, type RedNode, registerNode } from '../red';
import { heldByConfigNode, linkStatus, reasonOf } from '../status';
import { BusLink, LinkDownError, type LinkState } from './link';

export const CMDTCP_LINK = 'labwire-cmdtcp-link';
export const CMDTCP = 'labwire-cmdtcp';

export const OPERATIONS = ['write', 'read', 'read_until', 'wrnrd', 'wrnrd_until', 'expect'] as const;
export type Operation = (typeof OPERATIONS)[number];

interface LinkNode extends RedNode {
  link: BusLink | undefined;
  settingsError: unknown;
}

function statusOf(state: LinkState) {
  switch (state.state) {
    case 'connected':
      return linkStatus('connected', state.canonical);
    case 'connecting':
      return linkStatus('connecting', undefined, state.cause);
    case 'reconnecting':
      return linkStatus('reconnecting', undefined, state.cause);
    case 'error':
      return linkStatus('error', undefined, state.cause);
    case 'closed':
      return linkStatus('idle', 'closed');
  }
}

interface OperationSettings {
  op: Operation;
  hex: boolean;
  data: string;
  eot: string;
  count: unknown;
  timeoutS: number | undefined;
}

/** What to send: the node's data, else msg.payload (text, a Buffer, or hex text for the `_bin` forms). */
function outgoing(s: OperationSettings, msg: NodeMessage): string | Uint8Array {
  const data = s.data !== '' ? s.data : msg.payload;
  if (s.hex) {
    if (data instanceof Uint8Array)
      return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex');
    if (typeof data === 'string') return data.trim();
    throw new SettingError('payload', 'expected hex text or a Buffer');
  }
  if (data instanceof Uint8Array || typeof data === 'string') return data;
  if (typeof data === 'number' || typeof data === 'boolean') return String(data);
  throw new SettingError('payload', 'expected text or a Buffer to send');
}

function eotOf(s: OperationSettings, msg: NodeMessage): string {
  const eot = s.eot !== '' ? s.eot : msg.eot;
  if (typeof eot !== 'string' || eot === '')
    throw new SettingError('eot', 'required (e.g. \\n, or \\r\\n,\\n)');
  return eot;
}

function countOf(s: OperationSettings, msg: NodeMessage): number {
  return numberSetting('bytes', isBlank(s.count) ? msg.count : s.count, undefined, { integer: true, min: 0 });
}

async function call(
  bus: TcpBus,
  id: string,
  s: OperationSettings,
  msg: NodeMessage,
  signal: AbortSignal,
): Promise<unknown> {
  const t = s.timeoutS;
  const options = { signal };
  switch (s.op) {
    case 'write': {
      const data = outgoing(s, msg);
      if (s.hex) await bus.writeBin(id, data as string, options);
      else await bus.write(id, data, options);
      return msg.payload;
    }
    case 'read':
      return s.hex ? bus.readBin(id, countOf(s, msg), t, options) : bus.read(id, countOf(s, msg), t, options);
    case 'read_until':
      return s.hex
        ? bus.readBinUntil(id, eotOf(s, msg), t, options)
        : bus.readUntil(id, eotOf(s, msg), t, options);
    case 'wrnrd': {
      const data = outgoing(s, msg);
      return s.hex
        ? bus.wrnrdBin(id, data as string, countOf(s, msg), t, options)
        : bus.wrnrd(id, data, countOf(s, msg), t, options);
    }
    case 'wrnrd_until': {
      const data = outgoing(s, msg);
      return s.hex
        ? bus.wrnrdBinUntil(id, data as string, eotOf(s, msg), t, options)
        : bus.wrnrdUntil(id, data, eotOf(s, msg), t, options);
    }
    case 'expect': {
      const pattern = s.data !== '' ? s.data : msg.payload;
      if (typeof pattern !== 'string' && !(pattern instanceof Uint8Array))
        throw new SettingError('pattern', 'expected text (escapes decoded) or a Buffer');
      const consumed = await bus.expect(id, pattern, t, options);
      return Buffer.from(consumed.buffer, consumed.byteOffset, consumed.byteLength);
    }
  }
}

export function registerCmdTcpNodes(RED: NodeAPI): void {
  registerNode<LinkNode, NodeDefinition>(RED, CMDTCP_LINK, (node, config) => {
    node.link = undefined;
    node.settingsError = undefined;
    try {
      node.link = new BusLink(textSetting(config.conf), {
        simulate: booleanSetting(config.simulate),
        logger: nodeLogger(node),
      });
    } catch (error) {
      node.settingsError = error;
      node.error(`conf_string: ${reasonOf(error)}`);
    }
    onClose(
      node,
      () => {
        const link = node.link;
        node.link = undefined;
        return link?.close();
      },
      { clearStatus: false },
    );
  });

  registerNode<RedNode, NodeDefinition>(RED, CMDTCP, (node, config) => {
    const link = heldByConfigNode(RED, node, config.link, CMDTCP_LINK, (n: LinkNode) => n.link, {
      noun: 'link',
      choose: 'a cmd_tcp link',
    });
    if (link === undefined) return;
    let settings: OperationSettings;
    try {
      settings = {
        op: choiceSetting('operation', config.op, OPERATIONS, 'wrnrd_until'),
        hex: booleanSetting(config.hex),
        data: typeof config.data === 'string' ? config.data : '',
        eot: typeof config.eot === 'string' ? config.eot : '',
        count: config.count,
        timeoutS: isBlank(config.timeout)
          ? undefined
          : numberSetting('timeout', config.timeout, undefined, { min: 0 }),
      };
    } catch (error) {
      node.status(linkStatus('error', 'settings', error));
      node.error(`settings: ${reasonOf(error)}`);
      return;
    }
    const closing = new AbortController();
    let linkState: LinkState = link.state;
    let lastError: unknown;
    const show = () => {
      if (lastError !== undefined && linkState.state === 'connected')
        node.status(linkStatus('error', undefined, lastError));
      else node.status(statusOf(linkState));
    };
    const unwatch = link.watch((state) => {
      // A new connection starts clean: the last call's failure belonged to the old one.
      if (state.state === 'connected' && linkState.state !== 'connected') lastError = undefined;
      linkState = state;
      show();
    });
    node.on('input', (msg, send, done) => {
      link
        .run((bus, id) => call(bus, id, settings, msg, closing.signal))
        .then(
          (payload) => {
            if (closing.signal.aborted) return done();
            if (lastError !== undefined) {
              lastError = undefined;
              show();
            }
            msg.payload = payload;
            send(msg);
            done();
          },
          (error: unknown) => {
            if (closing.signal.aborted) return done();
            // A call refused because the link is down: the link's own status already says why.
            if (!(error instanceof LinkDownError)) {
              lastError = error;
              show();
            }
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
