// What changes when a PyMoDAQ message crosses from one wire generation to another (PymodaqBridge). Pure:
// values in, values out, plus a list of what the target generation cannot carry. Array data is never
// copied: every generation carries every numpy dtype, so an array is re-framed by reference (at most a new
// NdArray header over the same bytes).

import {
  type Axis,
  axis,
  type DataToExport,
  type DataWithAxes,
  type ExtraAttribute,
  type Generation,
  NdArray,
  type PymodaqProfile,
} from './codec';
import { ServerCommand } from './commands';

/** Gen A/B detector data is a list of arrays; names, units, axes and attributes have no place in it. */
export function isListGeneration(generation: Generation): boolean {
  return generation === 'A' || generation === 'B';
}

/** C4 and D carry the units of a DataWithAxes (and so of a position). */
export function carriesUnits(generation: Generation): boolean {
  return generation === 'C4' || generation === 'D';
}

/** x_axis / y_axis as sent by a gen A/B instrument (docs/protocols/pymodaq.md §4, 1.6.4 – 4.0.x), in PyMoDAQ's terms. */
export interface AxisMessage {
  readonly values: NdArray;
  readonly label: string;
  readonly units: string;
}

/** The x (columns) and y (rows) axes of a viewer, as gen A/B send them apart from the data. */
export interface ViewerAxes {
  x?: AxisMessage | undefined;
  y?: AxisMessage | undefined;
}

export interface DataTranslation {
  /** What to send; undefined when nothing of the message can go. */
  readonly data: DataToExport | undefined;
  /** What the target could not carry, one short phrase each (empty: nothing lost). */
  readonly lost: string[];
  /** Gen A/B targets: the axes to send as x_axis / y_axis messages before the data. */
  readonly axes: ViewerAxes;
}

/** PyMoDAQ gives every DataFromPlugins `do_plot` and `do_save` (docs/protocols/pymodaq.md §5.5): no loss when they go. */
function isDefaultAttribute(a: ExtraAttribute): boolean {
  return (a.name === 'do_plot' || a.name === 'do_save') && a.value === true;
}

/** Gen A arrays are nrow × ncol: the receiver squeezes, so the squeezed shape is what the sender meant. */
function withoutWireShape(array: NdArray): NdArray {
  return array.wireShape === undefined ? array : new NdArray(array.dtype, array.shape, array.data);
}

/** A gen A/B x_axis / y_axis as a PyMoDAQ 4+ Axis of the dimension it describes. */
function toAxis(message: AxisMessage, index: number): Axis {
  return axis({ label: message.label, units: message.units, data: message.values, index });
}

/**
 * The axes a gen A/B viewer declared, attached to a DataWithAxes whose data they fit: 1-D data takes x as
 * axis 0; 2-D data takes y (rows) as axis 0 and x (columns) as axis 1. An axis whose length does not match
 * its dimension is left out.
 */
function attachAxes(dwa: DataWithAxes, axes: ViewerAxes): DataWithAxes {
  const shape = dwa.data[0]?.shape;
  if (shape === undefined || dwa.axes.length > 0) return dwa;
  const found: Axis[] = [];
  if (shape.length === 1 && axes.x?.values.size === shape[0]) found.push(toAxis(axes.x, 0));
  if (shape.length === 2) {
    if (axes.y?.values.size === shape[0]) found.push(toAxis(axes.y, 0));
    if (axes.x?.values.size === shape[1]) found.push(toAxis(axes.x, 1));
  }
  return found.length === 0 ? dwa : { ...dwa, axes: found };
}

/** The inverse for gen A/B targets: the x/y axes of the first DataWithAxes that has any. */
function viewerAxesOf(dwa: DataWithAxes): ViewerAxes {
  const ndim = dwa.data[0]?.ndim ?? 0;
  const out: ViewerAxes = {};
  for (const a of dwa.axes) {
    const m: AxisMessage = { values: a.data, label: a.label, units: a.units };
    if (ndim <= 1 && a.index === 0) out.x = m;
    else if (ndim === 2 && a.index === 1) out.x = m;
    else if (ndim === 2 && a.index === 0) out.y = m;
  }
  return out;
}

/** Extra attributes a gen C layout can carry (C1 none; the others what its list tags can hold). */
function encodableAttributes(
  attributes: readonly ExtraAttribute[],
  to: PymodaqProfile,
  lost: Set<string>,
): ExtraAttribute[] {
  if (to.generation === 'C1') {
    if (attributes.some((a) => !isDefaultAttribute(a))) lost.add('extra attributes (C1 has none)');
    return [];
  }
  return attributes.filter((a) => {
    try {
      to.encodeTagged(a.value);
      return true;
    } catch {
      lost.add(`extra attribute ${JSON.stringify(a.name)} (its value has no ${to.generation} encoding)`);
      return false;
    }
  });
}

/**
 * Detector data from generation `from` made ready for `to`. `declared` are the x/y axes a gen A/B
 * instrument sent with x_axis / y_axis (attached to the data for C/D targets). With `axesAsMessages`
 * (A/B targets) the axes of the first DataWithAxes that has any go out as x_axis / y_axis; the rest is lost.
 */
export function translateDetectorData(
  dte: DataToExport,
  from: PymodaqProfile,
  to: PymodaqProfile,
  options: { declared?: ViewerAxes; axesAsMessages?: boolean } = {},
): DataTranslation {
  const lost = new Set<string>();
  const fromA = from.generation === 'A';
  const sourceIsList = isListGeneration(from.generation);
  let dwas: readonly DataWithAxes[] = dte.data;
  if (fromA && to.generation !== 'A') {
    dwas = dwas.map((d) => ({ ...d, data: d.data.map(withoutWireShape) }));
  }
  if (sourceIsList && !isListGeneration(to.generation) && options.declared !== undefined) {
    const declared = options.declared;
    dwas = dwas.map((d) => attachAxes(d, declared));
  }

  if (isListGeneration(to.generation)) {
    let axes: ViewerAxes = {};
    const kept: DataWithAxes[] = [];
    for (const dwa of dwas) {
      const named = dwa.name === '' ? 'a DataWithAxes' : JSON.stringify(dwa.name);
      if (dwa.units !== '') lost.add(`units of ${named} (${dwa.units})`);
      if (dwa.errors.length > 0) lost.add(`error arrays of ${named}`);
      if (dwa.navIndexes.length > 0) lost.add(`navigation indexes of ${named}`);
      const extras = dwa.extraAttributes.filter((a) => !isDefaultAttribute(a));
      if (extras.length > 0)
        lost.add(`extra attributes of ${named} (${extras.map((a) => a.name).join(', ')})`);
      if (dwa.axes.length > 0) {
        if (options.axesAsMessages && axes.x === undefined && axes.y === undefined) {
          axes = viewerAxesOf(dwa);
          if (dwa.axes.length > (axes.x ? 1 : 0) + (axes.y ? 1 : 0)) lost.add(`navigation axes of ${named}`);
        } else lost.add(`axes of ${named}`);
      }
      let data = dwa.data;
      if (to.generation === 'A') {
        data = data.filter((array, i) => {
          if (array.ndim <= 2) return true;
          lost.add(
            `${array.ndim}-D array ${dwa.labels[i] ?? i} of ${named} (gen A carries at most 2 dimensions)`,
          );
          return false;
        });
      }
      kept.push(data === dwa.data ? dwa : { ...dwa, data });
    }
    if (dte.extraAttributes.length > 0) lost.add('extra attributes of the DataToExport');
    const arrays = kept.reduce((n, d) => n + d.data.length, 0);
    return {
      data: arrays === 0 && dte.data.length > 0 ? undefined : { ...dte, data: kept },
      lost: [...lost],
      axes,
    };
  }

  if (to.generation === 'D') {
    return { data: dwas === dte.data ? dte : { ...dte, data: dwas }, lost: [], axes: {} };
  }

  // Gen C: one DataToExport class, the layout's DataWithAxes fields, no DataToExport attributes.
  const layoutUnits = to.generation === 'C4';
  const layoutErrors = to.generation === 'C3' || to.generation === 'C4';
  const kept = dwas.map((dwa): DataWithAxes => {
    let out = dwa;
    if (dwa.type === 'DataFromRoi') {
      lost.add('class DataFromRoi (sent as DataRaw)');
      out = { ...out, type: 'DataRaw' };
    }
    if (!layoutUnits && dwa.units !== '') lost.add(`units (${dwa.units})`);
    if (!layoutErrors && dwa.errors.length > 0) lost.add('error arrays');
    const attributes = encodableAttributes(dwa.extraAttributes, to, lost);
    if (attributes.length !== dwa.extraAttributes.length) out = { ...out, extraAttributes: attributes };
    return out;
  });
  let type = dte.type;
  if (type !== 'DataToExport') {
    lost.add(`class ${type} (sent as DataToExport)`);
    type = 'DataToExport';
  }
  if (dte.extraAttributes.length > 0) lost.add('extra attributes of the DataToExport');
  return { data: { ...dte, type, data: kept }, lost: [...lost], axes: {} };
}

/**
 * The command that asks an instrument of `generation` for its position: `check_position` for A and B (every
 * B client knows it; `get_actuator_value` came with 3.6.3, docs/protocols/pymodaq.md §7), `get_actuator_value` for C and D.
 */
export function positionQueryOf(generation: Generation): string {
  return isListGeneration(generation) ? ServerCommand.checkPosition : ServerCommand.getActuatorValue;
}

/** Whether two axis messages describe the same axis (to send x_axis / y_axis only when they change). */
export function sameAxis(a: AxisMessage | undefined, b: AxisMessage | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  if (a.label !== b.label || a.units !== b.units || a.values.dtype !== b.values.dtype) return false;
  const x = a.values.data;
  const y = b.values.data;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
