// The labwire libraries log through an injected `{ debug, info, warn, error }` logger taking (message,
// fields); here it goes to the node's own log, so Node-RED's log settings decide what is shown. Library
// errors are warnings of the node: a node's errors proper are the ones it reports with a message.

import type { Logger } from '@labwire/framing';
import type { RedNode } from './red';
import { escapeText } from './status';

function line(message: string, fields?: Record<string, unknown>): string {
  if (fields === undefined) return escapeText(message);
  const parts: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    let text: string;
    try {
      text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
    } catch {
      text = String(value);
    }
    parts.push(`${key}=${text}`);
  }
  return escapeText(parts.length === 0 ? message : `${message} (${parts.join(', ')})`);
}

export function nodeLogger(node: RedNode): Logger {
  return {
    debug: (message, fields) => node.debug(line(message, fields)),
    info: (message, fields) => node.log(line(message, fields)),
    warn: (message, fields) => node.warn(line(message, fields)),
    error: (message, fields) => node.warn(line(message, fields)),
  };
}
