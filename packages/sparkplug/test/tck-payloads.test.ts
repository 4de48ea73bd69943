// Payload-level statements of Sparkplug B 3.0 §6.4 (metrics, property sets, quality codes, DataSets,
// templates), as the encoder guarantees them for what the edge node publishes and the decoder checks
// them for what it receives. Session-level template rules (definitions only in the NBIRTH) go through
// EdgeNode; the published births are then observed on aedes.

import { EdgeNode } from '@labwire/sparkplug';
import {
  DataType,
  decodePayload,
  encodePayload,
  type Metric,
  PayloadDecodeError,
  PayloadEncodeError,
  type Template,
} from '@labwire/sparkplug/codec';
import { afterEach, describe, expect, it } from 'vitest';
import { startAedes } from './brokers';
import { Observer } from './observer';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const enc = (m: Metric) => encodePayload({ metrics: [m] });

describe('metric datatypes (§6.4.4)', () => {
  it('[tck-id-payloads-metric-datatype-value-type] [tck-id-payloads-metric-datatype-value] the datatype is a uint32 varint from the enum; others are refused both ways', () => {
    expect(hex(enc({ name: 'x', datatype: DataType.DateTimeArray, value: [] }))).toContain('2022'); // field 4 = 34
    expect(() => enc({ name: 'x', datatype: 35 as DataType, value: 1 })).toThrow(PayloadEncodeError);
    expect(() => decodePayload(Uint8Array.from([0x12, 0x05, 0x0a, 0x01, 0x78, 0x20, 0x23]))).toThrow(
      PayloadDecodeError,
    );
  });

  it('[tck-id-payloads-metric-timestamp-in-UTC] metric timestamps are UTC milliseconds since the epoch (uint64), exact beyond 2^32', () => {
    const t = Date.UTC(2030, 0, 1, 12, 0, 0, 5);
    expect(
      decodePayload(enc({ name: 'x', timestamp: t, datatype: DataType.Boolean, value: true })).metrics[0]!
        .timestamp,
    ).toBe(t);
  });
});

describe('property sets (§6.4.9 – §6.4.11)', () => {
  it('[tck-id-payloads-propertyset-keys-array-size] [tck-id-payloads-propertyset-values-array-size] keys and values have the same length; a mismatch is refused', () => {
    const p = enc({
      name: 'x',
      datatype: DataType.Int8,
      value: 1,
      properties: { a: { type: DataType.Int8, value: -1 }, b: { type: DataType.String, value: 's' } },
    });
    expect(Object.keys(decodePayload(p).metrics[0]!.properties!)).toEqual(['a', 'b']);
    // metric { name "x", properties { keys ["k"] } } (a key without its value)
    expect(() =>
      decodePayload(Uint8Array.from([0x12, 0x08, 0x0a, 0x01, 0x78, 0x4a, 0x03, 0x0a, 0x01, 0x6b])),
    ).toThrow(/1 key\(s\) and 0 value\(s\)/);
  });

  it('[tck-id-payloads-metric-propertyvalue-type-type] [tck-id-payloads-metric-propertyvalue-type-value] [tck-id-payloads-metric-propertyvalue-type-req] every property value carries its type (basic, PropertySet or PropertySetList)', () => {
    const p = enc({
      name: 'x',
      datatype: DataType.Int8,
      value: 1,
      properties: { u: { type: DataType.UInt32, value: 7 } },
    });
    expect(hex(p)).toContain('0807'); // PropertyValue.type (1) = 7
    expect(() =>
      enc({
        name: 'x',
        datatype: DataType.Int8,
        value: 1,
        properties: { b: { type: DataType.Bytes, value: 1 } },
      }),
    ).toThrow(/not allowed/);
    // PropertyValue without a type: metric { name "x", properties { keys ["k"], values [{ int_value 1 }] } }
    expect(() =>
      decodePayload(
        Uint8Array.from([0x12, 0x0c, 0x0a, 0x01, 0x78, 0x4a, 0x07, 0x0a, 0x01, 0x6b, 0x12, 0x02, 0x18, 0x01]),
      ),
    ).toThrow(/without a type/);
  });

  it('[tck-id-payloads-propertyset-quality-value-type] [tck-id-payloads-propertyset-quality-value-value] the Quality property is an Int32 of 0, 192 or 500', () => {
    for (const q of [0, 192, 500]) {
      expect(() =>
        enc({
          name: 'x',
          datatype: DataType.Int8,
          value: 1,
          properties: { Quality: { type: DataType.Int32, value: q } },
        }),
      ).not.toThrow();
    }
    expect(() =>
      enc({
        name: 'x',
        datatype: DataType.Int8,
        value: 1,
        properties: { Quality: { type: DataType.Int32, value: 100 } },
      }),
    ).toThrow(/0, 192 or 500/);
    expect(() =>
      enc({
        name: 'x',
        datatype: DataType.Int8,
        value: 1,
        properties: { Quality: { type: DataType.Int64, value: 192 } },
      }),
    ).toThrow(/Int32/);
  });
});

describe('DataSet (§6.4.12)', () => {
  const ds = { columns: ['a', 'b'], types: [DataType.Int32, DataType.String], rows: [[-1, 'x']] };

  it('[tck-id-payloads-dataset-column-size] [tck-id-payloads-dataset-parameter-type-req] num_of_columns (uint64) and the types array are always written', () => {
    const h = hex(enc({ name: 'x', datatype: DataType.DataSet, value: ds }));
    expect(h).toContain('0802'); // DataSet.num_of_columns (1) = 2
    expect(h).toContain('1803180c'); // DataSet.types (3) = 3, 12, unpacked as proto2 writes them
  });

  it('[tck-id-payloads-dataset-column-num-headers] [tck-id-payloads-dataset-types-num] columns and types have the same length; a mismatch is refused both ways', () => {
    expect(() =>
      enc({ name: 'x', datatype: DataType.DataSet, value: { ...ds, types: [DataType.Int32] } }),
    ).toThrow(/2 column name\(s\) but 1 type/);
    // DataSet { num_of_columns 1, columns ["a"] } without types
    const bad = Uint8Array.from([
      0x12, 0x0d, 0x0a, 0x01, 0x78, 0x20, 0x10, 0x8a, 0x01, 0x05, 0x08, 0x01, 0x12, 0x01, 0x61,
    ]);
    expect(() => decodePayload(bad)).toThrow(/1 column name\(s\) and 0 type\(s\)/);
  });

  it('[tck-id-payloads-dataset-types-def] [tck-id-payloads-dataset-types-type] [tck-id-payloads-dataset-types-value] [tck-id-payloads-template-dataset-value] column types are basic datatypes; cells use uint32/uint64/float/double/bool/string', () => {
    expect(() =>
      enc({
        name: 'x',
        datatype: DataType.DataSet,
        value: { columns: ['a'], types: [DataType.Bytes], rows: [] },
      }),
    ).toThrow(/not a basic type/);
    const back = decodePayload(enc({ name: 'x', datatype: DataType.DataSet, value: ds })).metrics[0]!.value;
    expect(back).toEqual(ds);
  });
});

describe('templates (§6.4.13 – §6.4.14)', () => {
  const definition: Template = {
    isDefinition: true,
    version: 'v1',
    metrics: [
      { name: 'rpm', datatype: DataType.Int32, value: 0 },
      { name: 'on', datatype: DataType.Boolean, value: false },
    ],
    parameters: [{ name: 'maxRpm', type: DataType.UInt32, value: 3000 }],
  };
  const instance: Template = {
    isDefinition: false,
    templateRef: 'Motor',
    metrics: [
      { name: 'rpm', datatype: DataType.Int32, value: -5 },
      { name: 'on', datatype: DataType.Boolean, value: true },
    ],
    parameters: [{ name: 'maxRpm', type: DataType.UInt32, value: 2500 }],
  };

  it('[tck-id-payloads-template-definition-is-definition] [tck-id-payloads-template-definition-ref] [tck-id-payloads-template-is-definition] [tck-id-payloads-template-is-definition-definition] [tck-id-payloads-template-ref-definition] a definition has is_definition = true and no template_ref', () => {
    expect(() =>
      enc({ name: 'Motor', datatype: DataType.Template, value: { ...definition, templateRef: 'x' } }),
    ).toThrow(/must not have a templateRef/);
    const h = hex(enc({ name: 'Motor', datatype: DataType.Template, value: definition }));
    expect(h).toContain('2801'); // Template.is_definition (5) = true
    expect(
      decodePayload(enc({ name: 'Motor', datatype: DataType.Template, value: definition })).metrics[0]!.value,
    ).toEqual(definition);
  });

  it('[tck-id-payloads-template-instance-is-definition] [tck-id-payloads-template-instance-ref] [tck-id-payloads-template-is-definition-instance] [tck-id-payloads-template-ref-instance] an instance has is_definition = false and the definition name in template_ref', () => {
    expect(() =>
      enc({ name: 'm1', datatype: DataType.Template, value: { ...instance, templateRef: undefined } }),
    ).toThrow(/needs a templateRef/);
    const h = hex(enc({ name: 'm1', datatype: DataType.Template, value: instance }));
    expect(h).toContain('2800'); // is_definition written explicitly as false
    expect(h).toContain(`2205${Buffer.from('Motor').toString('hex')}`); // template_ref (4) = "Motor"
  });

  it('[tck-id-payloads-template-version] [tck-id-payloads-template-parameter-name-required] [tck-id-payloads-template-parameter-name-type] [tck-id-payloads-template-parameter-value-type] [tck-id-payloads-template-parameter-type-value] [tck-id-payloads-template-parameter-type-req] [tck-id-payloads-template-parameter-value] [tck-id-payloads-template-definition-parameters-default] version is a string; parameters carry name, a basic type and a value of that type', () => {
    expect(() =>
      enc({
        name: 'M',
        datatype: DataType.Template,
        value: { ...definition, version: 1 as unknown as string },
      }),
    ).toThrow(/expected a string/);
    expect(() =>
      enc({
        name: 'M',
        datatype: DataType.Template,
        value: { ...definition, parameters: [{ name: 'p', type: DataType.Bytes, value: 1 }] },
      }),
    ).toThrow(/not a basic type/);
    expect(() =>
      enc({
        name: 'M',
        datatype: DataType.Template,
        value: { ...definition, parameters: [{ name: 'p', type: DataType.UInt8, value: 300 }] },
      }),
    ).toThrow(/\[0, 255\]/);
    const back = decodePayload(enc({ name: 'M', datatype: DataType.Template, value: definition })).metrics[0]!
      .value as Template;
    expect(back.parameters).toEqual([{ name: 'maxRpm', type: DataType.UInt32, value: 3000 }]);
  });

  describe('in the session', () => {
    const cleanups: Array<() => Promise<unknown>> = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    it('[tck-id-topics-nbirth-templates] [tck-id-payloads-template-definition-nbirth] [tck-id-payloads-template-definition-nbirth-only] [tck-id-payloads-template-definition-members] [tck-id-payloads-template-definition-parameters] [tck-id-payloads-template-instance-members] [tck-id-payloads-template-instance-members-birth] [tck-id-payloads-template-instance-parameters] definitions go in the NBIRTH only; instances in DBIRTH reference them with all (and only) their members', async () => {
      const broker = await startAedes();
      cleanups.push(() => broker.close());
      const obs = await Observer.start(broker.url);
      cleanups.push(() => obs.close());
      const node = new EdgeNode({
        brokerUrl: broker.url,
        groupId: 'g',
        edgeNodeId: 'e',
        metrics: [{ name: 'Motor', datatype: DataType.Template, value: definition }],
      });
      cleanups.push(() => node.close());
      expect(() =>
        node.defineDevice('d', [{ name: 'Motor', datatype: DataType.Template, value: definition }]),
      ).toThrow(/belong in the NBIRTH/);
      expect(() =>
        node.defineDevice('d', [
          { name: 'm', datatype: DataType.Template, value: { ...instance, templateRef: 'Pump' } },
        ]),
      ).toThrow(/no node metric defines/);
      expect(() =>
        node.defineDevice('d', [
          { name: 'm', datatype: DataType.Template, value: { ...instance, metrics: [instance.metrics[0]!] } },
        ]),
      ).toThrow(/every member/);
      expect(() =>
        node.defineDevice('d', [
          {
            name: 'm',
            datatype: DataType.Template,
            value: {
              ...instance,
              metrics: [...instance.metrics, { name: 'x', datatype: DataType.Int8, value: 1 }],
            },
          },
        ]),
      ).toThrow(/not in definition/);
      node.defineDevice('d', [{ name: 'm1', datatype: DataType.Template, value: instance }]);
      await node.start({ timeoutMs: 10_000 });
      const [nbirth] = await obs.waitFor('NBIRTH');
      const [dbirth] = await obs.waitFor('DBIRTH');
      expect(nbirth!.payload.metrics.find((m) => m.name === 'Motor')!.value).toEqual(definition);
      expect(dbirth!.payload.metrics[0]!.value).toEqual(instance);
    });

    it("[tck-id-payloads-template-instance-members-data] a DATA message may carry a subset of an instance's members", async () => {
      const broker = await startAedes();
      cleanups.push(() => broker.close());
      const obs = await Observer.start(broker.url);
      cleanups.push(() => obs.close());
      const node = new EdgeNode({
        brokerUrl: broker.url,
        groupId: 'g',
        edgeNodeId: 'e',
        metrics: [{ name: 'Motor', datatype: DataType.Template, value: definition }],
      });
      cleanups.push(() => node.close());
      node.defineDevice('d', [{ name: 'm1', datatype: DataType.Template, value: instance }]);
      await node.start({ timeoutMs: 10_000 });
      const partial: Template = {
        isDefinition: false,
        templateRef: 'Motor',
        metrics: [{ name: 'rpm', datatype: DataType.Int32, value: 77 }],
      };
      node.updateDevice('d', [{ name: 'm1', value: partial }]);
      const [ddata] = await obs.waitFor('DDATA');
      expect(ddata!.payload.metrics[0]!.value).toEqual(partial);
    });
  });
});
