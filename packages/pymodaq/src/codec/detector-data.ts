// Detector data after `Done` (docs/protocols/pymodaq.md §7, §8.3) is a DataToExport in every generation. C/D carry one on the
// wire; A/B carry a list of arrays, which the decoder turns into a DataToExport of one DataFromPlugins per
// array (PyMoDAQ's CH00, CH01, … names and labels) and the encoder flattens back into that list.

import type { NdArray } from './nd-array';
import { type DataToExport, dataFromPlugins, defaultLabels, dimOf, nowSeconds } from './values';

/**
 * A/B: one DataFromPlugins per (squeezed) array. The wire carries no name and no timestamp: the name is
 * empty and the timestamp is the time of decoding (when PyMoDAQ's own server stamps what it receives).
 */
export function dteFromArrays(arrays: readonly NdArray[]): DataToExport {
  const labels = defaultLabels(arrays.length);
  const timestamp = nowSeconds();
  return {
    type: 'DataToExport',
    timestamp,
    name: '',
    data: arrays.map((array, i) =>
      dataFromPlugins({
        name: labels[i]!,
        data: [array],
        dim: dimOf(array),
        labels: [labels[i]!],
        timestamp,
      }),
    ),
    extraAttributes: [],
  };
}

/** A/B: the arrays of every DataWithAxes, in order (names, axes and attributes have no place on that wire). */
export function arraysOfDte(dte: DataToExport): NdArray[] {
  return dte.data.flatMap((dwa) => dwa.data);
}
