// What a real PyMoDAQ server receives from our actuator: the type string, then `Infos` with the settings
// XML as PyMoDAQ writes it (title, type, visible, removable, readonly on every element, docs/protocols/pymodaq.md §7) and the
// `units` child that PyMoDAQ 4.4.3+ reads (docs/protocols/pymodaq.md §8.1), then `Quit` before closing (bug a).

import net from 'node:net';
import { PymodaqActuator, parseParameterXml, SimulatedStage } from '@labwire/pymodaq';
import { expect, it } from 'vitest';

it('the actuator handshake, byte for byte in gen C4', async () => {
  const chunks: Buffer[] = [];
  const server = net.createServer((s) => s.on('data', (d: Buffer) => chunks.push(d)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const actuator = new PymodaqActuator({
    protocol: '4.4',
    port,
    units: 'mm',
    reconnect: false,
    handlers: new SimulatedStage().handlers(),
  });
  await actuator.connect();
  await actuator.close();
  await new Promise((r) => setTimeout(r, 50));
  await new Promise<void>((r) => server.close(() => r()));
  const wire = Buffer.concat(chunks);
  const str = (at: number) => {
    const n = wire.readUInt32BE(at);
    return { text: wire.subarray(at + 4, at + 4 + n).toString('utf8'), next: at + 4 + n };
  };
  const type = str(0);
  const infos = str(type.next);
  const xml = str(infos.next);
  const quit = str(xml.next);
  expect([type.text, infos.text, quit.text, quit.next]).toEqual(['ACTUATOR', 'Infos', 'Quit', wire.length]);
  const root = parseParameterXml(xml.text);
  const units = root.children.find((c) => c.name === 'units');
  expect(units?.value).toBe('mm');
  for (const node of [root, units!]) {
    expect(node.attributes).toMatchObject({ visible: '1', removable: '0', readonly: '0' });
    expect(node.attributes.title).toBeTruthy();
    expect(node.attributes.type).toBeTruthy();
  }
});
