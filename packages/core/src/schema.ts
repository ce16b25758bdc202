/**
 * The Standard Schema interface (standardschema.dev, v1), declared here so core depends on no
 * validation library: zod, valibot, arktype and others implement `~standard` and plug in as is.
 */
import { SchemaValidationError } from './errors.js';

export interface StandardSchemaIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

export type StandardSchemaResult<Output> = { readonly value: Output; readonly issues?: undefined } | { readonly issues: ReadonlyArray<StandardSchemaIssue> };

export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

/** The type a schema produces (what the handler's `message.body` is). */
export type InferOutput<S extends StandardSchemaV1> = NonNullable<S['~standard']['types']>['output'];

/** The validated (maybe transformed) value; throws `SchemaValidationError` with the schema's issues. */
export async function validate<Output>(schema: StandardSchemaV1<unknown, Output>, value: unknown, queue: string): Promise<Output> {
  let result = schema['~standard'].validate(value);
  if (result instanceof Promise) result = await result;
  if (result.issues) throw new SchemaValidationError(result.issues, queue);
  return result.value;
}
