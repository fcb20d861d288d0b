// Validates --json outputs of up/down/check against the schemas in schemas/.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import AjvModule from 'ajv';
import { repoRoot } from '../helpers.js';

const Ajv = AjvModule.default;
const ajv = new Ajv({ strict: true, allErrors: true });
const validators = new Map<string, ReturnType<typeof ajv.compile>>();

export function assertSchema(schema: 'up-result' | 'check-result', value: unknown): void {
  let v = validators.get(schema);
  if (!v) {
    v = ajv.compile(JSON.parse(readFileSync(join(repoRoot, 'schemas', `${schema}.json`), 'utf8')));
    validators.set(schema, v);
  }
  assert.ok(v(value), `${schema}: ${ajv.errorsText(v.errors)}`);
}
