// Status dots and the reasons printed under nodes. A reason often carries text from the network (a host
// name, a device's reply, a conf_string): it is escaped (control and bidirectional-override characters
// shown as \xNN / \uNNNN) and shortened, so a node's label stays one short, honest line.

import { configNode, type NodeAPI, type NodeStatus, type RedNode } from './red';

/** Longest status text, in characters (Node-RED draws it on one line under the node). */
export const MAX_STATUS_CHARS = 90;

/** C0 and C1 controls, DEL, and the Unicode bidirectional marks, overrides and isolates. */
function unprintable(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x061c ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

/** `text` with every unprintable character escaped (\n, \r, \t, \xNN, \uNNNN). */
export function escapeText(text: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!unprintable(code)) continue;
    out += text.slice(from, i);
    from = i + 1;
    if (code === 0x0a) out += '\\n';
    else if (code === 0x0d) out += '\\r';
    else if (code === 0x09) out += '\\t';
    else if (code <= 0xff) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** `text` escaped, cut to `max` characters with an ellipsis. */
export function shorten(text: string, max = MAX_STATUS_CHARS): string {
  const escaped = escapeText(text);
  if (escaped.length <= max) return escaped;
  let end = Math.max(0, max - 1);
  // Never cut a surrogate pair in two.
  const last = escaped.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${escaped.slice(0, end)}…`;
}

/**
 * A short reason for an error: its message (labwire's say what was expected and what arrived), or its name
 * when it has none; escaped, no stack.
 */
export function reasonOf(error: unknown): string {
  if (error instanceof Error) return escapeText(error.message === '' ? error.name : error.message);
  return escapeText(String(error));
}

export type LinkState = 'connecting' | 'connected' | 'reconnecting' | 'stale' | 'error' | 'idle';

/**
 * The status of a node for a link state: green dot connected, yellow ring connecting or reconnecting (with
 * the reason the link went down), red ring stale or error (with the reason), grey ring idle.
 */
export function linkStatus(state: LinkState, detail?: string, reason?: unknown): NodeStatus {
  const why = reason === undefined ? '' : `: ${reasonOf(reason)}`;
  const what = detail === undefined || detail === '' ? state : `${state} ${detail}`;
  switch (state) {
    case 'connected':
      return { fill: 'green', shape: 'dot', text: shorten(what) };
    case 'connecting':
    case 'reconnecting':
      return { fill: 'yellow', shape: 'ring', text: shorten(`${what}${why}`) };
    case 'stale':
    case 'error':
      return { fill: 'red', shape: 'ring', text: shorten(`${what}${why}`) };
    case 'idle':
      return { fill: 'grey', shape: 'ring', text: shorten(what) };
  }
}

/**
 * What a node's configuration node holds for it (a link, a server, a device), or undefined with a red
 * status saying why: no configuration node chosen (also logged, naming what to choose), or one whose
 * settings are wrong (its `settingsError`).
 */
export function heldByConfigNode<C extends { settingsError?: unknown }, T>(
  RED: NodeAPI,
  node: RedNode,
  id: unknown,
  type: string,
  held: (owner: C) => T | undefined,
  what: { noun: string; choose: string },
): T | undefined {
  const owner = configNode<C>(RED, id, type);
  const value = owner === undefined ? undefined : held(owner);
  if (value === undefined) {
    node.status(linkStatus('error', what.noun, owner?.settingsError ?? `no ${what.noun} configured`));
    if (owner === undefined) node.error(`no ${what.noun} configured: choose ${what.choose} in the node`);
  }
  return value;
}
