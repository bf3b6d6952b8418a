import type * as z from 'zod';
import { ValidationError } from './errors';
import { fieldErrors } from './schemas/common';

/** zod-validates `value`; a failure is a 400 naming every invalid field (messages never echo values) */
export const validate = <S extends z.ZodType>(schema: S, value: unknown): z.infer<S> => {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ValidationError('Some fields need attention', fieldErrors(parsed.error));
  return parsed.data;
};
