// `pymodaq decode`: a captured frame explained as JSON, field by field.

import { UsageError } from '@labwire/cli-kit';
import { fromHex } from '@labwire/framing';
import { type Explanation, explainFrame, resolveProfile } from '@labwire/pymodaq/codec';

type ExplainedField = Explanation['fields'][number];
type ExplainedMessage = Explanation['messages'][number];

/** Parses hex (spaces, colons and a 0x prefix allowed) and explains it under the generation's profile. */
export function decodeHex(
  protocol: string,
  hex: string,
  options: Parameters<typeof explainFrame>[2] = {},
): Explanation {
  const cleaned = hex.replace(/^0x/i, '').replace(/[\s:]/g, '');
  let profile: ReturnType<typeof resolveProfile>;
  try {
    profile = resolveProfile(protocol);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  let bytes: Uint8Array;
  try {
    bytes = fromHex(cleaned);
  } catch (e) {
    throw new UsageError(`bad hex: ${(e as Error).message}`);
  }
  return nameFields(explainFrame(bytes, profile, options));
}

/**
 * The explainer names the fields inside an object (`DataToExport.data[0].units`) but leaves the ones
 * that frame a message unnamed: the command string, the class name that opens an object, and in gen D
 * each frame's length and type tag. They get names here, after the message they belong to: `command`,
 * `detector.class`, `messages[1].frame_length`, `messages[1].type`, `messages[1].value`.
 */
export function nameFields(explanation: Explanation): Explanation {
  const framed = explanation.generation === 'D';
  const owner = (f: ExplainedField) =>
    explanation.messages.findIndex((m) => f.offset >= m.offset && f.offset < m.offset + m.length);
  const state = new Map<number, { seen: number; afterLength: boolean }>();
  const fields = explanation.fields.map((f) => {
    if (f.field !== '') return f;
    const i = owner(f);
    const m: ExplainedMessage | undefined = explanation.messages[i];
    const label =
      m === undefined
        ? 'unknown'
        : m.part === 'value' || m.part.startsWith('value:')
          ? `messages[${i}]`
          : m.part;
    const s = state.get(i) ?? { seen: 0, afterLength: false };
    state.set(i, s);
    const isObject = m !== undefined && typeof m.value === 'object' && m.value !== null;
    let name: string;
    if (f.meaning.startsWith('frame length')) name = `${label}.frame_length`;
    else if (framed && s.afterLength) name = `${label}.type`;
    else if (isObject && s.seen === 0 && f.meaning.startsWith('str "')) name = `${label}.class`;
    else name = m?.part === 'command' ? 'command' : `${label}.value`;
    s.afterLength = name.endsWith('.frame_length');
    s.seen++;
    return { ...f, field: name };
  });
  return { ...explanation, fields };
}
