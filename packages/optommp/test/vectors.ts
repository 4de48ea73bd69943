// The OptoMMP golden vectors (fixtures/vectors/optommp.json; where they come from: fixtures/vectors/README.md)
// and a reader for their `meaning` text, so every entry (including ones added later) is checked field by
// field against its own annotation.

import fs from 'node:fs';
import path from 'node:path';
import { fromHex } from '@labwire/framing';

export interface Vector {
  name: string;
  description: string;
  request_hex: string;
  response_hex: string | null;
  meaning: string;
}

export const VECTORS_PATH = path.resolve(import.meta.dirname, 'fixtures/vectors/optommp.json');

export const vectors: Vector[] = JSON.parse(fs.readFileSync(VECTORS_PATH, 'utf8')) as Vector[];

export function vector(name: string): Vector {
  const v = vectors.find((x) => x.name === name || x.name.startsWith(`${name}-`));
  if (!v) throw new Error(`no vector ${name}`);
  return v;
}

export const bytesOf = (hex: string): Uint8Array => fromHex(hex);

/** The fields a `meaning` text states for one packet. */
export interface AnnotatedPacket {
  tcode: number;
  tl: number;
  sourceId: number;
  offset?: number;
  dataLength?: number;
  data?: string;
  rcode?: number;
  bytes: number;
}

function annotate(text: string): AnnotatedPacket {
  const num = (re: RegExp) => {
    const m = re.exec(text);
    return m ? m[1] : undefined;
  };
  const out: AnnotatedPacket = {
    tcode: Number(num(/tcode (\d+)/)),
    tl: Number(num(/\btl (\d+)/)),
    sourceId: Number.parseInt(num(/source_ID 0x([0-9a-fA-F]+)/) ?? 'NaN', 16),
    bytes: Number(num(/(\d+) bytes/)),
  };
  const offset = num(/offset 0x([0-9a-fA-F]+)/);
  if (offset !== undefined) out.offset = Number.parseInt(offset, 16);
  const dataLength = num(/data_length (\d+)/);
  if (dataLength !== undefined) out.dataLength = Number(dataLength);
  const data = num(/\bdata ([0-9a-f]+)\b/);
  if (data !== undefined) out.data = data;
  const rcode = num(/rcode (\d+)/);
  if (rcode !== undefined) out.rcode = Number(rcode);
  return out;
}

/** The request and response annotations of a vector's `meaning`. */
export function annotations(v: Vector): { request: AnnotatedPacket; response?: AnnotatedPacket } {
  const [head] = v.meaning.split('Correct interpretation:');
  const [req, res] = head!.split('Response:');
  const request = annotate(req!.replace(/^Request:/, ''));
  return res === undefined ? { request } : { request, response: annotate(res) };
}
