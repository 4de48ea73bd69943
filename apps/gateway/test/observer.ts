// An independent Sparkplug subscriber for the tests (its own MQTT.js connection, nothing of the gateway's
// code): records every edge-node message with its MQTT flags, decoded with the datatypes the births
// declared (one catalog per edge node, as aliases are unique per edge node).

import type { Payload } from '@labwire/sparkplug/codec';
import { decodePayload, MetricCatalog, parseTopic } from '@labwire/sparkplug/codec';
import { waitFor } from '@labwire/testkit';
import mqtt, { type MqttClient } from 'mqtt';

export interface Observed {
  topic: string;
  type: string;
  edgeNodeId: string;
  deviceId: string | undefined;
  qos: number;
  retain: boolean;
  payload: Payload;
  /** Metric names resolved from aliases. */
  names: string[];
  at: number;
}

export class Observer {
  readonly messages: Observed[] = [];
  readonly decodeErrors: Array<{ topic: string; error: unknown }> = [];
  readonly client: MqttClient;
  readonly #catalogs = new Map<string, MetricCatalog>();

  private constructor(client: MqttClient) {
    this.client = client;
    client.on('message', (topic, raw, packet) => {
      const t = parseTopic(topic);
      if (t.kind === 'state' || t.messageType === 'NCMD' || t.messageType === 'DCMD') return;
      let catalog = this.#catalogs.get(t.edgeNodeId);
      if (!catalog) {
        catalog = new MetricCatalog();
        this.#catalogs.set(t.edgeNodeId, catalog);
      }
      let payload: Payload;
      try {
        payload = decodePayload(raw, { datatypes: catalog.datatypes });
      } catch (error) {
        this.decodeErrors.push({ topic, error });
        return;
      }
      if (t.messageType === 'NBIRTH' || t.messageType === 'DBIRTH') catalog.learn(payload);
      this.messages.push({
        topic,
        type: t.messageType,
        edgeNodeId: t.edgeNodeId,
        deviceId: t.kind === 'device' ? t.deviceId : undefined,
        qos: packet.qos,
        retain: packet.retain,
        payload,
        names: payload.metrics.map((m) => catalog.nameOf(m) ?? '?'),
        at: Date.now(),
      });
    });
  }

  static async start(url: string, options: { reconnectPeriod?: number } = {}): Promise<Observer> {
    const client = mqtt.connect(url, {
      reconnectPeriod: options.reconnectPeriod ?? 0,
      clean: true,
      connectTimeout: 5_000,
    });
    client.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync('spBv1.0/#', { qos: 1 });
    return new Observer(client);
  }

  of(type: string, options: { edgeNodeId?: string; deviceId?: string; after?: number } = {}): Observed[] {
    return this.messages.filter(
      (m) =>
        m.type === type &&
        (options.edgeNodeId === undefined || m.edgeNodeId === options.edgeNodeId) &&
        (options.deviceId === undefined || m.deviceId === options.deviceId) &&
        (options.after === undefined || m.at >= options.after),
    );
  }

  async waitFor(
    type: string,
    count = 1,
    options: { edgeNodeId?: string; deviceId?: string; after?: number; timeoutMs?: number } = {},
  ): Promise<Observed[]> {
    const pick = () => this.of(type, options);
    return waitFor(() => (pick().length >= count ? pick() : undefined), {
      timeoutMs: options.timeoutMs ?? 20_000,
      message: `${count} ${type}${options.deviceId ? ` of ${options.deviceId}` : ''} (have ${pick().length})`,
    });
  }

  /** Values of one metric as received (live and historical), in arrival order. */
  values(deviceId: string, name: string): Array<{ value: unknown; historical: boolean; timestamp: unknown }> {
    const out: Array<{ value: unknown; historical: boolean; timestamp: unknown }> = [];
    for (const m of this.messages) {
      if (m.deviceId !== deviceId || (m.type !== 'DDATA' && m.type !== 'DBIRTH')) continue;
      m.payload.metrics.forEach((metric, i) => {
        if (m.names[i] === name)
          out.push({
            value: metric.value,
            historical: metric.isHistorical === true,
            timestamp: metric.timestamp,
          });
      });
    }
    return out;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
