// Errors that reach the user, with one root and one code table (the shape of
// MCUboot's shared BOOT_E* codes and esptool's FatalError): every error a user
// can see is an AunetError whose code names the problem class; the table gives
// each code its exit status, a line of meaning and what to do (docs/errors.md
// is generated from it and snapshot-tested: tests/common/errors.test.ts).
// Messages name the problem and the file, flag or field. Anything that is not
// an AunetError is an internal error (exit 70, "please report this").
//
// Exit statuses: 1 = bad input or a failed check (a file, a model, a device
// that is not right), 2 = bad usage (flags, arguments, options), 70 = internal.

export const EXIT_BAD_INPUT = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 70;

type Row = readonly [exit: typeof EXIT_BAD_INPUT | typeof EXIT_USAGE, meaning: string, remedy: string];

export const ERROR_CODES = {
  // bad usage: fix the command line
  USAGE: [EXIT_USAGE, 'a flag, argument or option the command cannot take', 'read the message and `aunet COMMAND --help`; fix the flag or argument it names'],
  UNKNOWN_COMMAND: [EXIT_USAGE, 'no such command', '`aunet --help` lists the commands'],
  // files and folders
  NO_FILE: [EXIT_BAD_INPUT, 'a file or folder that does not exist or cannot be read', 'check the path and its permissions'],
  EXISTS: [EXIT_BAD_INPUT, 'an output that already exists and would be overwritten', 'choose another output, or pass --force where the command has it'],
  BAD_FILE: [EXIT_BAD_INPUT, 'a file that cannot be parsed', 'fix the field named, or recreate the file with the tool that writes it'],
  EMPTY: [EXIT_BAD_INPUT, 'an input that holds nothing to work on', 'point the command at a folder or file that holds images or frames'],
  TRUNCATED: [EXIT_BAD_INPUT, 'a file that ends before its own structure says it should', 'the file was cut short (a copy or download that did not finish): copy it again'],
  WRITE_FAILED: [EXIT_BAD_INPUT, 'an output that could not be written (permissions, a read-only disk)', 'fix the permissions of the output folder or choose another'],
  NO_SPACE: [EXIT_BAD_INPUT, 'the disk (or a file size limit) filled up while writing', 'free disk space (or raise the limit) and run again; the message says what was kept'],
  OUT_OF_MEMORY: [EXIT_BAD_INPUT, 'an input too large for the memory of this machine', 'use a smaller input (docs/model-format.md lists the model limits); the message names what was too large'],
  UNSUPPORTED: [EXIT_BAD_INPUT, 'a valid input of a kind this product does not handle', 'convert the input to a kind the docs list (docs/frame-sources.md, docs/importers.md)'],
  // images, frames and sources
  BAD_IMAGE: [EXIT_BAD_INPUT, 'an image that cannot be decoded', 'open the file in an image viewer; export it again as 8- or 16-bit PNG or baseline JPEG'],
  BAD_MASK: [EXIT_BAD_INPUT, 'a ground-truth mask that does not fit its image', "a mask must have its image's width and height; fix or remove the mask file named"],
  BAD_VIDEO: [EXIT_BAD_INPUT, 'a video file ffprobe/ffmpeg cannot read', 'check the file with `ffprobe FILE`; re-encode it with ffmpeg if it does not play'],
  BAD_DICOM: [EXIT_BAD_INPUT, 'a DICOM file that cannot be read as ultrasound frames', 'check that the file is an ultrasound cine (US or multi-frame) with uncompressed or JPEG pixel data'],
  BAD_RECORDING: [EXIT_BAD_INPUT, 'an .aurec recording that is damaged (not just cut short: that is a torn tail, replayed with a warning)', 'the message names the byte and frame; `--salvage` replays the intact frames, labelled; record again for a whole one'],
  BAD_DATASET: [EXIT_BAD_INPUT, 'a folder that is not in the BUSI layout', 'lay the folder out as BUSI: benign/, malignant/, normal/, each image with its X_mask.png'],
  BAD_GOLDEN: [EXIT_BAD_INPUT, 'a golden file that cannot be read, or a source whose frames are not the ones it was made from', 'check against the source the golden file names; to start over, `aunet replay SOURCE --golden FILE --update-golden`'],
  GOLDEN_MISMATCH: [EXIT_BAD_INPUT, 'replayed outputs differ from the golden file, or frames it holds were not checked', 'open the --report to see the differing and missing frames; if the change is intended, rewrite it with --update-golden'],
  CAPTURE_FAILED: [EXIT_BAD_INPUT, 'a capture device that is missing, unreadable, not a video device, or sends no frames', 'check the cable and the device name (`ls /dev/video*`); the message names the device and the cause'],
  NO_FFMPEG: [EXIT_BAD_INPUT, 'ffmpeg or ffprobe is not installed', 'install the Debian package ffmpeg (or set AUNET_FFMPEG / AUNET_FFPROBE)'],
  FFMPEG_FAILED: [EXIT_BAD_INPUT, 'ffmpeg could not decode the source', 'run the ffmpeg command the message shows by hand to see why it fails'],
  FFMPEG_CRASH: [EXIT_BAD_INPUT, 'ffmpeg stopped in the middle of the source', 'check the source (a cut cable, a damaged file); the frames before the crash were delivered'],
  FFMPEG_OUTPUT: [EXIT_BAD_INPUT, 'ffmpeg wrote something other than the frames asked for', "check the ffmpeg version (Debian's is tested); the message shows what ffmpeg printed instead"],
  // models
  BAD_MODEL: [EXIT_BAD_INPUT, 'a model that is not a valid Attention U-Net for these engines', 'use a model written by `aunet quantize` (check it with `aunet inspect`); the message names the field'],
  BAD_HASH: [EXIT_BAD_INPUT, 'a file whose content does not match the hash it carries', 'the file was damaged after it was written: copy it again from its source'],
  BAD_ARCH: [EXIT_BAD_INPUT, 'an architecture (filters, input size, channels) the network cannot have', 'the input side must be a multiple of 16, the channels 1 or 3, the filters at least 1'],
  NOT_A_MODEL: [EXIT_BAD_INPUT, 'a file that is not a model', 'give an .aunet model (a firmware image is read with `aunet inspect` or `aunet firmware verify`)'],
  NOT_FLOAT: [EXIT_BAD_INPUT, 'an int8 model where a float source is needed', 'give the float source the .aunet was quantized from (`aunet inspect` shows its name and SHA-256)'],
  KERAS_LAYOUT: [EXIT_BAD_INPUT, 'a Keras file whose layers are not the study network', 'export the study network with tf.keras 2.x `model.save(...h5)`; docs/importers.md lists the layers expected'],
  ONNX_TOPOLOGY: [EXIT_BAD_INPUT, 'an ONNX graph that is not the study network', 'export the study network (docs/importers.md); the message names the node that does not fit'],
  BAD_FRAME_SIZE: [EXIT_BAD_INPUT, 'a frame whose size is not the model input', "preprocess the frame to the model's input size (camera/preprocess.ts does this for every source)"],
  BAD_INPUT: [EXIT_BAD_INPUT, 'an engine input that is not an 8-bit frame', 'pass a Uint8Array of height*width*channels 8-bit pixels'],
  BAD_TENSOR: [EXIT_BAD_INPUT, 'a tensor name the model does not have', '`aunet inspect MODEL` lists the tensor names'],
  BAD_CHIP_CONFIG: [EXIT_BAD_INPUT, 'a chip configuration that cannot work', 'fix the field the message names (docs/chip-model.md lists the fields and their ranges)'],
  NO_RELAXED_SIMD: [EXIT_BAD_INPUT, 'this Node cannot run the relaxed-SIMD kernels', 'use Node 20 with --experimental-wasm-relaxed-simd, or --build simd'],
  CHILD_FAILED: [EXIT_BAD_INPUT, 'a child process the command started failed', 'run the child command the message names by hand to see its error'],
  // configuration and publishing
  BAD_CONFIG: [EXIT_BAD_INPUT, 'a run configuration that does not validate', 'fix the fields the message names (docs/config.md); editors check the file with docs/config.schema.json'],
  BROKER_REFUSED: [EXIT_BAD_INPUT, 'the MQTT broker refused the connection', 'check the broker URL, the username and the password (docs/mqtt.md, "Who may send commands")'],
  BROKER_TIMEOUT: [EXIT_BAD_INPUT, 'the MQTT broker did not answer', 'check that the broker runs and that its port is reachable from the box'],
  NO_USER: [EXIT_BAD_INPUT, 'an operator account that does not exist', '`aunet users list --store FILE` lists the accounts of that store'],
  BROKER_TLS: [EXIT_BAD_INPUT, "the MQTT broker's TLS certificate is not trusted", "pass the CA that signed the broker's certificate as broker.tls.ca"],
  NO_PORT: [EXIT_BAD_INPUT, 'a network or serial port that cannot be opened', 'check the device name (`ls /dev/tty*`) and that no other program holds it'],
  // firmware and devices
  BAD_KEY: [EXIT_BAD_INPUT, 'a signing key that cannot be used', 'create keys with `aunet keys generate` (Ed25519, PEM)'],
  BAD_VERSION: [EXIT_BAD_INPUT, 'a version this product cannot read or build (file format, firmware MAJOR.MINOR.PATCH)', 'write versions as MAJOR.MINOR.PATCH; a file of a newer format needs a newer aunet'],
  SELF_TEST: [EXIT_BAD_INPUT, 'the model self-test failed', 'rebuild the image from a matching kernel build and model (`npm run build`, then `aunet firmware build`)'],
  DEVICE: [EXIT_BAD_INPUT, 'the box refused or failed a command', "read the box's status in the message; `aunet device info --port DEV` shows the slots and their state"],
  BAD_SIGNATURE: [EXIT_BAD_INPUT, 'a firmware image whose signature does not verify with the key', 'sign the image with the key whose public half the box holds'],
  HASH_MISMATCH: [EXIT_BAD_INPUT, 'a firmware image whose section or payload hash is wrong', 'the image was damaged in transfer or storage: copy it again (or rebuild it)'],
  WRONG_HARDWARE: [EXIT_BAD_INPUT, 'a firmware image built for another hardware id', "build the image with the box's --hardware-id"],
  DOWNGRADE: [EXIT_BAD_INPUT, "a firmware image older than the box allows: a security counter below its minimum (anti-rollback), or a lower version at the same counter", "build the image with a security counter at least the box's (`aunet device info`); to go back a version on purpose, build or flash it with --allow-downgrade"],
  // wire formats
  BAD_FRAME_MESSAGE: [EXIT_BAD_INPUT, 'a frame message that is not in the format of docs/mqtt.md', 'publish frames in the format of docs/mqtt.md (the live service and contracts/frame-message.ts do)'],
  // ports to listen on come from flags (--port, --http-port) or their config keys: choose others
  EADDRINUSE: [EXIT_USAGE, 'a port already in use', 'choose another port (--port, --http-port, or their config keys), or stop the program that holds it'],
  LISTEN: [EXIT_USAGE, 'a port that cannot be listened on', 'choose another address or port (ports below 1024 need privileges)'],
} as const satisfies Record<string, Row>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface AunetErrorOptions {
  cause?: unknown;
  /** the file, flag or field the problem is about: reported in parentheses after it */
  subject?: string;
  /** what to do, when this error knows better than its code's row in ERROR_CODES */
  hint?: string;
}

/**
 * The root of every error a user sees: a code from ERROR_CODES and the problem
 * in words; with a subject (a file, flag or field) the message is "subject:
 * problem". The reporter (host/cli.ts) prints one line from these parts:
 * `aunet: <problem> (<subject>): <what to do>`.
 */
export class AunetError extends Error {
  readonly exitCode: number;
  readonly problem: string;
  readonly subject?: string;
  readonly hint?: string;
  constructor(readonly code: ErrorCode, problem: string, options: AunetErrorOptions = {}) {
    super(options.subject ? `${options.subject}: ${problem}` : problem, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AunetError';
    this.exitCode = ERROR_CODES[code][0];
    this.problem = problem;
    this.subject = options.subject;
    this.hint = options.hint;
  }

  /** What to do about it: the error's own hint, else its code's remedy. */
  get remedy(): string {
    return this.hint ?? ERROR_CODES[this.code][2];
  }
}

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** Wrong flags, missing arguments, a value out of range. */
export class UsageError extends AunetError {
  constructor(message: string, code: 'USAGE' | 'UNKNOWN_COMMAND' = 'USAGE', options: AunetErrorOptions = {}) {
    super(code, message, options);
    this.name = 'UsageError';
  }
}

/** A file that cannot be read, parsed or written: the message names the file. */
export class FileError extends AunetError {
  constructor(readonly file: string, problem: string, code: ErrorCode = 'BAD_FILE', options: Omit<AunetErrorOptions, 'subject'> = {}) {
    super(code, problem, { ...options, subject: file });
    this.name = 'FileError';
  }
}

/**
 * Failures of the machine rather than of the input, as errors a user can act
 * on: a full disk (ENOSPC, a quota, a file size limit) and memory exhausted
 * (an allocation a size made impossible). Undefined for anything else.
 */
export function resourceError(e: unknown, subject?: string): AunetError | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') {
    return new AunetError('NO_SPACE', `no space left to write (${code})`, { subject, cause: e });
  }
  const msg = e instanceof Error ? e.message : '';
  if (e instanceof RangeError && /allocation failed|Invalid typed array length|Invalid array buffer length|Memory\.grow|out of memory|Array buffer allocation/i.test(msg)) {
    return new AunetError('OUT_OF_MEMORY', `out of memory: ${msg}`, { subject, cause: e });
  }
  if (code === 'ERR_BUFFER_TOO_LARGE' || code === 'ERR_STRING_TOO_LONG') return new AunetError('OUT_OF_MEMORY', `out of memory: ${msg}`, { subject, cause: e });
  return undefined;
}
