// Errors that reach the user. ExitError carries an exit code and a message that
// names the problem (and the file or field); anything else is an internal error.

export class ExitError extends Error {
  constructor(message: string, readonly exitCode = 1, readonly code = 'EXIT') {
    super(message);
    this.name = 'ExitError';
  }
}

/** Wrong flags, missing arguments, a value out of range. */
export class UsageError extends ExitError {
  constructor(message: string) {
    super(message, 2, 'USAGE');
    this.name = 'UsageError';
  }
}

/** A file that cannot be read or parsed: the message names the file. */
export class FileError extends ExitError {
  constructor(readonly file: string, problem: string, code = 'BAD_FILE') {
    super(`${file}: ${problem}`, 1, code);
    this.name = 'FileError';
  }
}
