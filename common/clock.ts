// The wall clock of capture, publish and display stamps: milliseconds on the
// Date.now() scale with sub-millisecond resolution (performance.now() cannot go
// backwards; Date.now() moves in whole milliseconds and with NTP steps).
// Works in Node and in the browser (the monitor).

/** Wall-clock ms with sub-ms resolution, on the Date.now() scale. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}
