/**
 * Typed errors carry their exit code; cmd/ is the one place that ends the process with it.
 * The codes are documented in README.md ("Exit codes") and fixed: scripts depend on them.
 */
export const ExitCode = {
  ok: 0,
  /** `tls status` found a warning or critical problem. */
  findings: 1,
  /** Bad flags, arguments or kubeconfig selection: nothing was sent to the cluster. */
  usage: 2,
  /** The API server refused or failed a request, or could not be reached. */
  runtime: 3,
  /** A wait (`--timeout`) ran out. */
  timeout: 124,
  /** SIGINT or SIGTERM. */
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.usage);
  }
}

/** Something about the cluster connection or configuration that is not the user's typing. */
export class RuntimeError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.runtime);
  }
}

export class TimeoutError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.timeout);
  }
}

export class InterruptedError extends CliError {
  constructor(message = 'interrupted') {
    super(message, ExitCode.interrupted);
  }
}

/** A request the API server answered with an error status (or never answered). */
export class ApiError extends CliError {
  constructor(
    message: string,
    /** HTTP status, or 0 when no response arrived. */
    readonly status: number,
    /** The Status reason (`NotFound`, `Forbidden`, `Conflict`, ...) or a network code. */
    readonly reason: string,
  ) {
    super(message, ExitCode.runtime);
  }

  get isNotFound(): boolean {
    return this.status === 404;
  }
  get isForbidden(): boolean {
    return this.status === 403;
  }
  get isConflict(): boolean {
    return this.status === 409;
  }
}
