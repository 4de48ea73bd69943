// An independent Sparkplug subscriber (its own MQTT.js client) that records every message the edge node
// publishes, with the MQTT flags as delivered, and decodes payloads with the datatypes learnt from births.

import type { Payload } from '@labwire/sparkplug/codec';
import { decodePayload, MetricCatalog, parseTopic } from '@labwire/sparkplug/codec';
import { waitFor } from '@labwire/testkit';
import mqtt, { type MqttClient } from 'mqtt';

export interface Observed {
  topic: string;
  type: string;
  deviceId: string | undefined;
  qos: number;
  retain: boolean;
  payload: Payload;
  raw: Uint8Array;
  at: number;
}

export class Observer {
  readonly messages: Observed[] = [];
  /** Edge-node messages that did not decode (a test asserts there are none). */
  readonly decodeErrors: Array<{ topic: string; error: unknown }> = [];
  /** STATE messages seen; `at` is the index in `messages` they arrived before. */
  readonly states: Array<{ topic: string; online: boolean | undefined; retain: boolean; at: number }> = [];
  readonly client: MqttClient;
  private readonly catalog = new MetricCatalog();

  private constructor(client: MqttClient) {
    this.client = client;
    client.on('message', (topic, raw, packet) => {
      const t = parseTopic(topic);
      if (t.kind === 'state') {
        let online: boolean | undefined;
        try {
          online = (JSON.parse(raw.toString()) as { online?: boolean }).online;
        } catch {
          online = undefined;
        }
        this.states.push({ topic, online, retain: packet.retain, at: this.messages.length });
        return;
      }
      if (t.messageType === 'NCMD' || t.messageType === 'DCMD') return; // the hosts' messages, not the edge node's
      if (t.messageType === 'NBIRTH') this.catalog.clear();
      // DATA omits datatypes: type them with what the births said.
      let payload: Payload;
      try {
        payload = decodePayload(raw, { datatypes: this.catalog.datatypes });
      } catch (error) {
        this.decodeErrors.push({ topic, error });
        return;
      }
      if (t.messageType === 'NBIRTH' || t.messageType === 'DBIRTH') this.catalog.learn(payload);
      this.messages.push({
        topic,
        type: t.messageType,
        deviceId: t.kind === 'device' ? t.deviceId : undefined,
        qos: packet.qos,
        retain: packet.retain,
        payload,
        raw: new Uint8Array(raw),
        at: Date.now(),
      });
    });
  }

  /** Connects and subscribes to `spBv1.0/#` at QoS 1 (so QoS 0 publications arrive at QoS 0). */
  static async start(
    url: string,
    options: { filter?: string; reconnectPeriod?: number } = {},
  ): Promise<Observer> {
    const filter = options.filter ?? 'spBv1.0/#';
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
    await client.subscribeAsync(filter, { qos: 1 });
    return new Observer(client);
  }

  nameOf(alias: number | bigint | undefined, name?: string): string | undefined {
    return this.catalog.nameOf({ name, alias });
  }

  of(type: string, deviceId?: string): Observed[] {
    return this.messages.filter(
      (m) => m.type === type && (deviceId === undefined || m.deviceId === deviceId),
    );
  }

  async waitFor(type: string, count = 1, deviceId?: string, timeoutMs = 10_000): Promise<Observed[]> {
    return waitFor(() => (this.of(type, deviceId).length >= count ? this.of(type, deviceId) : undefined), {
      timeoutMs,
      message: `${count} ${type}${deviceId ? ` of ${deviceId}` : ''} (have ${this.of(type, deviceId).length})`,
    });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
