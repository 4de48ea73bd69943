// Sparkplug B 3.0 §4.1 topic namespace:
//   spBv1.0/<group_id>/<message_type>/<edge_node_id>[/<device_id>]   and   spBv1.0/STATE/<host_id>
// Group, edge node and device ids are UTF-8 strings without `+`, `/` or `#` (MQTT's separators and
// wildcards); device_id appears on DBIRTH, DDEATH, DDATA and DCMD only.

import { TopicError } from '../errors';

export const NAMESPACE = 'spBv1.0';

export type NodeMessageType = 'NBIRTH' | 'NDEATH' | 'NDATA' | 'NCMD';
export type DeviceMessageType = 'DBIRTH' | 'DDEATH' | 'DDATA' | 'DCMD';
export type MessageType = NodeMessageType | DeviceMessageType;

export type SparkplugTopic =
  | { kind: 'node'; groupId: string; messageType: NodeMessageType; edgeNodeId: string }
  | { kind: 'device'; groupId: string; messageType: DeviceMessageType; edgeNodeId: string; deviceId: string }
  | { kind: 'state'; hostId: string };

const NODE_TYPES = new Set(['NBIRTH', 'NDEATH', 'NDATA', 'NCMD']);
const DEVICE_TYPES = new Set(['DBIRTH', 'DDEATH', 'DDATA', 'DCMD']);

/** Throws a TopicError unless `id` is a usable Sparkplug id (non-empty, no `+`, `/`, `#`). */
export function checkId(id: string, what: string): string {
  if (typeof id !== 'string' || id.length === 0 || /[+/#]/.test(id)) {
    throw new TopicError(
      `${what} ${JSON.stringify(id)} must be a non-empty string without '+', '/' or '#'`,
      String(id),
    );
  }
  return id;
}

/** The topic of a node-level message. */
export function nodeTopic(groupId: string, type: NodeMessageType, edgeNodeId: string): string {
  return `${NAMESPACE}/${checkId(groupId, 'group_id')}/${type}/${checkId(edgeNodeId, 'edge_node_id')}`;
}

/** The topic of a device-level message. */
export function deviceTopic(
  groupId: string,
  type: DeviceMessageType,
  edgeNodeId: string,
  deviceId: string,
): string {
  return `${nodeTopic(groupId, 'NBIRTH', edgeNodeId).replace('/NBIRTH/', `/${type}/`)}/${checkId(deviceId, 'device_id')}`;
}

/** The STATE topic of a host application (§4.2). */
export function stateTopic(hostId: string): string {
  return `${NAMESPACE}/STATE/${checkId(hostId, 'host_id')}`;
}

/** Parses a Sparkplug B topic; throws a TopicError for anything else. */
export function parseTopic(topic: string): SparkplugTopic {
  const parts = topic.split('/');
  if (parts[0] !== NAMESPACE)
    throw new TopicError(`not a ${NAMESPACE} topic: ${JSON.stringify(topic)}`, topic);
  if (parts[1] === 'STATE' && parts.length === 3 && parts[2]) return { kind: 'state', hostId: parts[2] };
  const [, groupId, type, edgeNodeId, deviceId] = parts;
  if (!groupId || !type || !edgeNodeId)
    throw new TopicError(`incomplete Sparkplug topic ${JSON.stringify(topic)}`, topic);
  if (NODE_TYPES.has(type) && parts.length === 4) {
    return { kind: 'node', groupId, messageType: type as NodeMessageType, edgeNodeId };
  }
  if (DEVICE_TYPES.has(type) && parts.length === 5 && deviceId) {
    return { kind: 'device', groupId, messageType: type as DeviceMessageType, edgeNodeId, deviceId };
  }
  throw new TopicError(`unknown Sparkplug message type or topic shape: ${JSON.stringify(topic)}`, topic);
}
