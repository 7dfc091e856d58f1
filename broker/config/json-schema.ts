import { ConfigSchema } from './schema.ts';

/** `configJsonSchema` renders the config schema as the JSON Schema document published in schema/. */
export function configJsonSchema(): string {
  const doc = { $schema: 'http://json-schema.org/draft-07/schema#', $id: 'https://skillgate.dev/schema/skillgate.config.schema.json', ...ConfigSchema };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
