// Writes the published JSON Schema of the config file (npm run schema). A test fails when the
// committed file differs, so editors always complete against the schema the broker enforces.
import { writeFileSync } from 'node:fs';
import { configJsonSchema } from '../broker/config/json-schema.ts';

writeFileSync(new URL('../schema/skillgate.config.schema.json', import.meta.url), configJsonSchema());
console.log('wrote schema/skillgate.config.schema.json');
