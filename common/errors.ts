// Errors that reach the user, with one root and one code table (the shape of
// MCUboot's shared BOOT_E* codes and esptool's FatalError): every error a user
// can see is an AunetError whose code names the problem class; the table gives
// each code its exit status and a line of meaning (docs/errors.md lists it).
// Messages name the problem and the file, flag or field. Anything that is not
// an AunetError is an internal error (exit 70, "please report this").
//
// Exit statuses: 1 = bad input or a failed check (a file, a model, a device
// that is not right), 2 = bad usage (flags, arguments, options), 70 = internal.

export const EXIT_BAD_INPUT = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 70;

type Row = readonly [exit: typeof EXIT_BAD_INPUT | typeof EXIT_USAGE, meaning: string];

export const ERROR_CODES = {
  // bad usage: fix the command line
  USAGE: [EXIT_USAGE, 'a flag, argument or option the command cannot take'],
  UNKNOWN_COMMAND: [EXIT_USAGE, 'no such command'],
  // files and folders
  NO_FILE: [EXIT_BAD_INPUT, 'a file or folder that does not exist or cannot be read'],
  NOT_FOUND: [EXIT_BAD_INPUT, 'something named in a file or on the command line is not there'],
  EXISTS: [EXIT_BAD_INPUT, 'an output that already exists and would be overwritten'],
  BAD_FILE: [EXIT_BAD_INPUT, 'a file that cannot be parsed'],
  EMPTY: [EXIT_BAD_INPUT, 'an input that holds nothing to work on'],
  TRUNCATED: [EXIT_BAD_INPUT, 'a file that ends before its own structure says it should'],
  WRITE_FAILED: [EXIT_BAD_INPUT, 'an output that could not be written (disk full, permissions)'],
  UNSUPPORTED: [EXIT_BAD_INPUT, 'a valid input of a kind this product does not handle'],
  // images, frames and sources
  BAD_IMAGE: [EXIT_BAD_INPUT, 'an image that cannot be decoded'],
  BAD_MASK: [EXIT_BAD_INPUT, 'a ground-truth mask that does not fit its image'],
  BAD_VIDEO: [EXIT_BAD_INPUT, 'a video file ffprobe/ffmpeg cannot read'],
  BAD_DICOM: [EXIT_BAD_INPUT, 'a DICOM file that cannot be read as ultrasound frames'],
  BAD_RECORDING: [EXIT_BAD_INPUT, 'an .aurec recording that is damaged'],
  BAD_DATASET: [EXIT_BAD_INPUT, 'a folder that is not in the BUSI layout'],
  BAD_GOLDEN: [EXIT_BAD_INPUT, 'a golden file that cannot be read or does not match its source'],
  GOLDEN_MISMATCH: [EXIT_BAD_INPUT, 'replayed outputs differ from the golden file'],
  NO_FFMPEG: [EXIT_BAD_INPUT, 'ffmpeg or ffprobe is not installed'],
  FFMPEG_FAILED: [EXIT_BAD_INPUT, 'ffmpeg could not decode the source'],
  FFMPEG_CRASH: [EXIT_BAD_INPUT, 'ffmpeg stopped in the middle of the source'],
  FFMPEG_OUTPUT: [EXIT_BAD_INPUT, 'ffmpeg wrote something other than the frames asked for'],
  SOURCE_LOST: [EXIT_BAD_INPUT, 'a frame source stopped delivering frames'],
  // models
  BAD_MODEL: [EXIT_BAD_INPUT, 'a model that is not a valid Attention U-Net for these engines'],
  BAD_HASH: [EXIT_BAD_INPUT, 'a file whose content does not match the hash it carries'],
  BAD_ARCH: [EXIT_BAD_INPUT, 'an architecture (filters, input size, channels) the network cannot have'],
  NOT_A_MODEL: [EXIT_BAD_INPUT, 'a file that is not a model'],
  NOT_FLOAT: [EXIT_BAD_INPUT, 'an int8 model where a float source is needed'],
  KERAS_LAYOUT: [EXIT_BAD_INPUT, 'a Keras file whose layers are not the study network'],
  ONNX_TOPOLOGY: [EXIT_BAD_INPUT, 'an ONNX graph that is not the study network'],
  BAD_FRAME_SIZE: [EXIT_BAD_INPUT, 'a frame whose size is not the model input'],
  BAD_INPUT: [EXIT_BAD_INPUT, 'an engine input that is not an 8-bit frame'],
  BAD_TENSOR: [EXIT_BAD_INPUT, 'a tensor name the model does not have'],
  BAD_CHIP_CONFIG: [EXIT_BAD_INPUT, 'a chip configuration that cannot work'],
  NO_RELAXED_SIMD: [EXIT_BAD_INPUT, 'this Node cannot run the relaxed-SIMD kernels'],
  CHILD_FAILED: [EXIT_BAD_INPUT, 'a child process the command started failed'],
  // configuration and publishing
  BAD_CONFIG: [EXIT_BAD_INPUT, 'a run configuration that does not validate'],
  BROKER_REFUSED: [EXIT_BAD_INPUT, 'the MQTT broker refused the connection'],
  BROKER_TIMEOUT: [EXIT_BAD_INPUT, 'the MQTT broker did not answer'],
  BROKER_TLS: [EXIT_BAD_INPUT, "the MQTT broker's TLS certificate is not trusted"],
  NO_PORT: [EXIT_BAD_INPUT, 'a network or serial port that cannot be opened'],
  // firmware and devices
  BAD_KEY: [EXIT_BAD_INPUT, 'a signing key that cannot be used'],
  BAD_VERSION: [EXIT_BAD_INPUT, 'a version this product cannot read or build (file format, firmware MAJOR.MINOR.PATCH)'],
  SELF_TEST: [EXIT_BAD_INPUT, 'the model self-test failed'],
  DEVICE: [EXIT_BAD_INPUT, 'the box refused or failed a command'],
  BAD_SIGNATURE: [EXIT_BAD_INPUT, 'a firmware image whose signature does not verify with the key'],
  HASH_MISMATCH: [EXIT_BAD_INPUT, 'a firmware image whose section or payload hash is wrong'],
  WRONG_HARDWARE: [EXIT_BAD_INPUT, 'a firmware image built for another hardware id'],
  DOWNGRADE: [EXIT_BAD_INPUT, 'a firmware image older than the one the box runs'],
  // wire formats
  BAD_FRAME_MESSAGE: [EXIT_BAD_INPUT, 'a frame message that is not in the format of docs/mqtt.md'],
  // ports to listen on come from flags (--port, --http-port) or their config keys: choose others
  EADDRINUSE: [EXIT_USAGE, 'a port already in use'],
  LISTEN: [EXIT_USAGE, 'a port that cannot be listened on'],
} as const satisfies Record<string, Row>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The root of every error a user sees: a code from ERROR_CODES and a message naming the problem. */
export class AunetError extends Error {
  readonly exitCode: number;
  constructor(readonly code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AunetError';
    this.exitCode = ERROR_CODES[code][0];
  }
}

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** Wrong flags, missing arguments, a value out of range. */
export class UsageError extends AunetError {
  constructor(message: string, code: 'USAGE' | 'UNKNOWN_COMMAND' = 'USAGE') {
    super(code, message);
    this.name = 'UsageError';
  }
}

/** A file that cannot be read or parsed: the message names the file. */
export class FileError extends AunetError {
  constructor(readonly file: string, problem: string, code: ErrorCode = 'BAD_FILE') {
    super(code, `${file}: ${problem}`);
    this.name = 'FileError';
  }
}
