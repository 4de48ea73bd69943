// Detector data after `Done` (spec §7, §8.3): A/B send a list of arrays (one channel each), C/D a
// DataToExport whose elements are DataFromPlugins. DetectorData is the common shape of both.

import type { NdArray } from './nd-array';
import {
  type DataToExport,
  type DataWithAxes,
  dataFromPlugins,
  dataToExport,
  dataWithAxes,
  defaultLabels,
  dimOf,
  nowSeconds,
} from './values';
import type { DetectorData } from './wire-profile';

/** Name PyMoDAQ's TCP client gives the DataToExport it sends (`v4_seq_done_dte`, `v5_dte_0d`). */
export const DEFAULT_DTE_NAME = 'tcp';

/** A/B: one channel per (squeezed) array; names and labels follow PyMoDAQ's CH00, CH01, … */
export function detectorDataFromArrays(arrays: readonly NdArray[]): DetectorData {
  const labels = defaultLabels(arrays.length);
  return {
    name: '',
    channels: arrays.map((array, i) => ({
      name: labels[i]!,
      dim: dimOf(array),
      arrays: [array],
      labels: [labels[i]!],
    })),
  };
}

/** A/B: the arrays of every channel, in order. */
export function arraysFromDetectorData(data: DetectorData): NdArray[] {
  return data.channels.flatMap((c) => c.arrays);
}

export function detectorDataFromDte(dte: DataToExport): DetectorData {
  return {
    name: dte.name,
    timestamp: dte.timestamp,
    channels: dte.data.map((dwa) => ({
      name: dwa.name,
      dim: dwa.dim,
      arrays: [...dwa.data],
      labels: [...dwa.labels],
      units: dwa.units,
      type: dwa.type,
      timestamp: dwa.timestamp,
      axes: [...dwa.axes],
      errors: [...dwa.errors],
    })),
  };
}

/**
 * C/D: a DataToExport of DataFromPlugins (registered eagerly by PyMoDAQ 5, spec §9 c), each with
 * `do_plot`/`do_save` and origin = the DataToExport's name, as PyMoDAQ's own client sends it.
 */
export function dteFromDetectorData(data: DetectorData, timestamp?: number): DataToExport {
  const ts = data.timestamp ?? timestamp ?? nowSeconds();
  const dwas: DataWithAxes[] = data.channels.map((c) => {
    const init = {
      name: c.name,
      data: c.arrays,
      dim: c.dim,
      timestamp: c.timestamp ?? ts,
      units: c.units ?? '',
      labels: c.labels ?? defaultLabels(c.arrays.length),
      axes: c.axes ?? [],
      errors: c.errors ?? [],
    };
    return c.type === undefined || c.type === 'DataFromPlugins'
      ? dataFromPlugins(init)
      : dataWithAxes(c.type, init);
  });
  return dataToExport({ name: data.name || DEFAULT_DTE_NAME, timestamp: ts, data: dwas });
}
