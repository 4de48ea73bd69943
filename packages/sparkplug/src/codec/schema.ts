// The Sparkplug B 3.0 protobuf schema (§6.4.1, `sparkplug_b.proto`, proto2), written out as a protobufjs
// JSON descriptor so that no .proto parser is loaded at run time. Field numbers and wire types are those
// of the specification; proto2 repeated scalars are not packed (`packed: false`), as Tahu's Java and C
// implementations write them. Extension ranges carry no fields here: unknown fields are skipped.
//
// Field names are camelCase forms of the proto names (int_value → intValue).

import Long from 'long';
import protobuf from 'protobufjs/light.js';

// 64-bit fields must decode to Long (exact), not to a rounded number: make sure protobufjs has it even
// where its own lazy `require('long')` cannot run (bundled builds).
if (!protobuf.util.Long) {
  protobuf.util.Long = Long;
  protobuf.configure();
}

const extensionMessage = { fields: {} };

// Every value oneof of the schema begins with the same six scalar fields, at consecutive field numbers:
// Metric from 10 (int_value 10 … string_value 15), PropertyValue and Template.Parameter from 3,
// DataSet.DataSetValue from 1.
const scalarValueFields = (first: number) => ({
  intValue: { type: 'uint32', id: first },
  longValue: { type: 'uint64', id: first + 1 },
  floatValue: { type: 'float', id: first + 2 },
  doubleValue: { type: 'double', id: first + 3 },
  booleanValue: { type: 'bool', id: first + 4 },
  stringValue: { type: 'string', id: first + 5 },
});

/** A message whose `…Value` fields are the members of its oneof `value`, in field order (as in the .proto). */
function withValueOneof<M extends { fields: Record<string, unknown> }>(message: M) {
  const oneof = Object.keys(message.fields).filter((name) => name.endsWith('Value'));
  return { oneofs: { value: { oneof } }, ...message };
}

const descriptor = {
  nested: {
    Payload: {
      fields: {
        timestamp: { type: 'uint64', id: 1 },
        metrics: { rule: 'repeated', type: 'Metric', id: 2 },
        seq: { type: 'uint64', id: 3 },
        uuid: { type: 'string', id: 4 },
        body: { type: 'bytes', id: 5 },
      },
      nested: {
        Template: {
          fields: {
            version: { type: 'string', id: 1 },
            metrics: { rule: 'repeated', type: 'Metric', id: 2 },
            parameters: { rule: 'repeated', type: 'Parameter', id: 3 },
            templateRef: { type: 'string', id: 4 },
            isDefinition: { type: 'bool', id: 5 },
          },
          nested: {
            Parameter: withValueOneof({
              fields: {
                name: { type: 'string', id: 1 },
                type: { type: 'uint32', id: 2 },
                ...scalarValueFields(3),
                extensionValue: { type: 'ParameterValueExtension', id: 9 },
              },
              nested: { ParameterValueExtension: extensionMessage },
            }),
          },
        },
        DataSet: {
          fields: {
            numOfColumns: { type: 'uint64', id: 1 },
            columns: { rule: 'repeated', type: 'string', id: 2 },
            types: { rule: 'repeated', type: 'uint32', id: 3, options: { packed: false } },
            rows: { rule: 'repeated', type: 'Row', id: 4 },
          },
          nested: {
            DataSetValue: withValueOneof({
              fields: {
                ...scalarValueFields(1),
                extensionValue: { type: 'DataSetValueExtension', id: 7 },
              },
              nested: { DataSetValueExtension: extensionMessage },
            }),
            Row: {
              fields: { elements: { rule: 'repeated', type: 'DataSetValue', id: 1 } },
            },
          },
        },
        PropertyValue: withValueOneof({
          fields: {
            type: { type: 'uint32', id: 1 },
            isNull: { type: 'bool', id: 2 },
            ...scalarValueFields(3),
            propertysetValue: { type: 'PropertySet', id: 9 },
            propertysetsValue: { type: 'PropertySetList', id: 10 },
            extensionValue: { type: 'PropertyValueExtension', id: 11 },
          },
          nested: { PropertyValueExtension: extensionMessage },
        }),
        PropertySet: {
          fields: {
            keys: { rule: 'repeated', type: 'string', id: 1 },
            values: { rule: 'repeated', type: 'PropertyValue', id: 2 },
          },
        },
        PropertySetList: {
          fields: { propertyset: { rule: 'repeated', type: 'PropertySet', id: 1 } },
        },
        MetaData: {
          fields: {
            isMultiPart: { type: 'bool', id: 1 },
            contentType: { type: 'string', id: 2 },
            size: { type: 'uint64', id: 3 },
            seq: { type: 'uint64', id: 4 },
            fileName: { type: 'string', id: 5 },
            fileType: { type: 'string', id: 6 },
            md5: { type: 'string', id: 7 },
            description: { type: 'string', id: 8 },
          },
        },
        Metric: withValueOneof({
          fields: {
            name: { type: 'string', id: 1 },
            alias: { type: 'uint64', id: 2 },
            timestamp: { type: 'uint64', id: 3 },
            datatype: { type: 'uint32', id: 4 },
            isHistorical: { type: 'bool', id: 5 },
            isTransient: { type: 'bool', id: 6 },
            isNull: { type: 'bool', id: 7 },
            metadata: { type: 'MetaData', id: 8 },
            properties: { type: 'PropertySet', id: 9 },
            ...scalarValueFields(10),
            bytesValue: { type: 'bytes', id: 16 },
            datasetValue: { type: 'DataSet', id: 17 },
            templateValue: { type: 'Template', id: 18 },
            extensionValue: { type: 'MetricValueExtension', id: 19 },
          },
          nested: { MetricValueExtension: extensionMessage },
        }),
      },
    },
  },
};

const root = protobuf.Root.fromJSON(descriptor);
root.resolveAll();

// protobufjs puts every optional field's default value on the message prototype (name = "", alias = 0,
// …), so presence needs an own-property check. Sparkplug cares about presence (a metric without a
// datatype, an absent value): remove the defaults, so that an absent field reads as `undefined`.
function dropDefaults(ns: protobuf.NamespaceBase): void {
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type) {
      const proto = nested.ctor.prototype as Record<string, unknown>;
      for (const field of nested.fieldsArray) if (!field.repeated) delete proto[field.name];
    }
    if (nested instanceof protobuf.Namespace) dropDefaults(nested);
  }
}
dropDefaults(root);

/** The protobufjs type of `Payload` (the root message of every Sparkplug B MQTT payload). */
export const PayloadType: protobuf.Type = root.lookupType('Payload');

/** The members of the `value` oneof of a message (`'Metric'`, `'DataSet.DataSetValue'` …), in field order. */
export function valueMembers(message: string): readonly string[] {
  return root.lookupType(`Payload.${message}`).oneofs!.value!.oneof;
}

/** A 64-bit field as protobufjs decodes it (with `long` installed) or accepts it for encoding. */
export type WireLong = Long | number | { low: number; high: number; unsigned: boolean };
