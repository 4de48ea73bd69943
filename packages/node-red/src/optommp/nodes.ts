// The OptoMMP nodes: `labwire-mmp-device` (config: one device, its scanner and its read/write client),
// `labwire-mmp-scan` (reports point groups at a period), `labwire-mmp-read` and `labwire-mmp-write`.

import { OPTOMMP_PORT } from '@labwire/optommp';
import { onClose } from '../close';
import { booleanSetting, choiceSetting, numberSetting, textSetting } from '../config';
import { nodeLogger } from '../logger';
import { type NodeAPI, type NodeDefinition, type NodeMessage, type RedNode, registerNode } from '../red';
import { heldByConfigNode, linkStatus, reasonOf } from '../status';
import { type DeviceLinkState, MmpDevice, type MmpDeviceSettings } from './device';
import { type OperationSettings, readPoint, writePoint } from './operations';
import { scanSettings } from './scan-settings';

export const MMP_DEVICE = 'labwire-mmp-device';
export const MMP_SCAN = 'labwire-mmp-scan';
export const MMP_READ = 'labwire-mmp-read';
export const MMP_WRITE = 'labwire-mmp-write';

interface DeviceNode extends RedNode {
  /** The device, or why its settings are wrong. */
  device: MmpDevice | undefined;
  settingsError: Error | undefined;
}

/** The device settings of a `labwire-mmp-device` node's configuration. */
export function deviceSettings(config: NodeDefinition): MmpDeviceSettings {
  const simulate = booleanSetting(config.simulate);
  const transport = choiceSetting('transport', config.transport, ['tcp', 'udp'], 'tcp');
  const host = textSetting(config.host, simulate ? '127.0.0.1' : '');
  if (host === '' && !simulate) throw new RangeError('host: required');
  const timeoutMs = numberSetting('timeout', config.timeout, 2000, { min: 1, max: 600_000 });
  return {
    name: textSetting(config.name, simulate ? 'simulated EPIC' : `${host}`),
    host,
    port: numberSetting('port', config.port, OPTOMMP_PORT, { integer: true, min: 1, max: 65_535 }),
    transport,
    timeoutMs,
    connectTimeoutMs: Math.max(timeoutMs, 2000),
    window: numberSetting('window', config.window, 1, { integer: true, min: 1, max: 32 }),
    maxBlockBytes: numberSetting('largest block', config.maxBlockBytes, 1024, {
      integer: true,
      min: 4,
      max: 65_535,
    }),
    simulate,
  };
}

function statusOf(link: DeviceLinkState) {
  switch (link.state) {
    case 'connected':
      return linkStatus('connected');
    case 'connecting':
      return linkStatus('connecting', undefined, link.cause);
    case 'reconnecting':
      return linkStatus('reconnecting', undefined, link.cause);
    case 'stale':
      return linkStatus('stale', undefined, link.cause);
    case 'closed':
      return linkStatus('idle', 'closed');
  }
}

/** The device a node points at, or a red status saying why there is none. */
function deviceOf(RED: NodeAPI, node: RedNode, config: NodeDefinition): MmpDevice | undefined {
  return heldByConfigNode(RED, node, config.device, MMP_DEVICE, (n: DeviceNode) => n.device, {
    noun: 'device',
    choose: 'an OptoMMP device',
  });
}

export function registerOptommpNodes(RED: NodeAPI): void {
  registerNode<DeviceNode, NodeDefinition>(RED, MMP_DEVICE, (node, config) => {
    node.device = undefined;
    node.settingsError = undefined;
    try {
      node.device = new MmpDevice(deviceSettings(config), nodeLogger(node));
    } catch (error) {
      node.settingsError = error as Error;
      node.error(`device settings: ${reasonOf(error)}`);
    }
    onClose(
      node,
      (removed) => {
        const device = node.device;
        node.device = undefined;
        if (device === undefined) return undefined;
        node.debug(removed ? 'removed: closing the device links' : 'restarting: closing the device links');
        return device.close();
      },
      { clearStatus: false },
    );
  });

  registerNode<RedNode, NodeDefinition>(RED, MMP_SCAN, (node, config) => {
    const device = deviceOf(RED, node, config);
    if (device === undefined) return;
    let settings: ReturnType<typeof scanSettings>;
    try {
      settings = scanSettings(config, device.settings.maxBlockBytes);
    } catch (error) {
      node.status(linkStatus('error', 'settings', error));
      node.error(`scan settings: ${reasonOf(error)}`);
      return;
    }
    for (const m of settings.splitModules) {
      node.warn(
        `${m.kind} ${m.module}: its ${m.bytes} bytes take more than one block read with the device's largest ` +
          `block of ${device.settings.maxBlockBytes} bytes; raise "largest block" to 4096 if the device accepts it`,
      );
    }
    const topic = textSetting(config.topic);
    const deviceName = device.settings.name;
    const remove = device.addScan(node.id, settings.group, {
      values(report) {
        const base = { device: deviceName, sequence: report.sequence, time: report.time };
        if (settings.output === 'point') {
          const msgs: NodeMessage[] = new Array(report.values.length);
          for (let i = 0; i < report.values.length; i++) {
            const v = report.values[i]!;
            msgs[i] = { ...base, topic: topic === '' ? v.point : `${topic}/${v.point}`, payload: v.value };
          }
          node.send([msgs]);
          return;
        }
        const payload: Record<string, number | boolean> = {};
        for (const v of report.values) payload[v.point] = v.value;
        node.send({ ...base, topic: topic === '' ? deviceName : topic, payload });
      },
      health(state) {
        node.status(statusOf(state));
      },
    });
    onClose(node, () => {
      remove();
      return undefined;
    });
  });

  const ioNode = (type: string, operation: typeof readPoint | typeof writePoint, isWrite: boolean) =>
    registerNode<RedNode, NodeDefinition>(RED, type, (node, config) => {
      const device = deviceOf(RED, node, config);
      if (device === undefined) return;
      const settings: OperationSettings = {
        area: String(config.area ?? ''),
        module: config.module,
        channel: config.channel,
        channels: config.channels,
        index: config.index,
        count: config.count,
        slot: config.slot,
        address: config.address,
        rawType: config.rawType,
        length: config.length,
      };
      // Every pending call ends when the node closes: its messages are done, nothing is left waiting.
      const closing = new AbortController();
      let link: DeviceLinkState = { state: 'connecting' };
      let lastError: unknown;
      const show = () => {
        if (lastError !== undefined && link.state === 'connected')
          node.status(linkStatus('error', undefined, lastError));
        else node.status(statusOf(link));
      };
      const unwatch = device.watchClient((state) => {
        link = state;
        show();
      });
      // Connect now, so the status says at once whether the device answers.
      device.client().catch((error: unknown) => {
        link = { state: 'reconnecting', cause: error as Error };
        show();
      });
      node.on('input', (msg, send, done) => {
        device
          .client()
          .then((client) => operation(client, settings, msg, { signal: closing.signal }))
          .then(
            (value) => {
              if (closing.signal.aborted) return done();
              device.callSettled(undefined);
              lastError = undefined;
              show();
              if (!isWrite) msg.payload = value;
              send(msg);
              done();
            },
            (error: unknown) => {
              if (closing.signal.aborted) return done();
              device.callSettled(error);
              lastError = error;
              show();
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
  ioNode(MMP_READ, readPoint, false);
  ioNode(MMP_WRITE, writePoint, true);
}
