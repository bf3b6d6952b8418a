// error classes the HTTP layer maps to status codes; messages never carry PHI

abstract class AppError extends Error {
  abstract readonly statusCode: number;
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  readonly statusCode = 400;
  constructor(
    message: string,
    readonly fields?: Record<string, string[]>,
    code = 'ValidationError',
  ) {
    super(message, code);
  }
}
export class UnauthorizedError extends AppError {
  readonly statusCode = 401;
  constructor(message = 'Sign in first') {
    super(message, 'Unauthorized');
  }
}
export class ForbiddenError extends AppError {
  readonly statusCode = 403;
  constructor(message = 'Your role does not allow this') {
    super(message, 'Forbidden');
  }
}
export class NotFoundError extends AppError {
  readonly statusCode = 404;
  constructor(message = 'Not found') {
    super(message, 'NotFound');
  }
}
export class ConflictError extends AppError {
  readonly statusCode = 409;
  constructor(message: string, code = 'Conflict', options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
export class CohortFullError extends ConflictError {
  constructor() {
    super('That cohort has no seat left; choose another cohort', 'CohortFull');
  }
}
export class PayloadTooLargeError extends AppError {
  readonly statusCode = 413;
  constructor(limit: number) {
    super(`Body larger than ${limit} bytes`, 'PayloadTooLarge');
  }
}
export class UnsupportedMediaTypeError extends AppError {
  readonly statusCode = 415;
  constructor() {
    super('Send the body as application/json', 'UnsupportedMediaType');
  }
}

export { AppError };

/**
 * A workflow task found its referral already closed (withdrawn meanwhile). Thrown from tasks; the
 * ASL catches the error name `ReferralClosed` and ends the execution quietly (never an HTTP error).
 */
export class ReferralClosedError extends Error {
  constructor(status: string) {
    super(`The referral is already closed (${status})`);
    this.name = 'ReferralClosed';
  }
}
