import type { EventSink } from '../core/gates.ts';
import type { Meter } from './meter.ts';

/** Meter as a gateway EventSink (synchronous, buffered; never blocks the request). */
export function meterSink(meter: Meter): EventSink {
  return { name: 'meter', onEvent: (event) => meter.record(event) };
}
