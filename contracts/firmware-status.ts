// The `firmware` object of the retained status and of `aunet device info`
// (docs/mqtt.md): what image the box runs, from which slot, and whether it is
// still on trial. Pure (the monitor reads it too).

export interface FirmwareStatus {
  /** the image's MAJOR.MINOR.PATCH */
  version: string;
  slot: 'a' | 'b';
  securityCounter: number;
  /** SHA-256 of the whole image file */
  sha256: string;
  hardwareId: string;
  /** trial: booted from a new image that has not yet confirmed; confirmed: the box's confirmed image */
  state: 'trial' | 'confirmed';
  /** the runtime build the pipeline runs (docs/firmware-format.md, "Runtimes") */
  runtime: string;
}

/** Box states the agent publishes while no pipeline owns the status (docs/mqtt.md). */
export type BoxStatusState = 'updating' | 'no-image';
