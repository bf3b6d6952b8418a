import { describe, expect, test } from '@jest/globals';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { functions } from '../../../functions/catalog';
import { openApiDocument, REQUEST_BODIES } from '../../../functions/lib/openapi';
import { validIntake } from './support/fixtures';

// the OpenAPI document is generated from the catalog and the zod schemas: it cannot drift from them

const doc = openApiDocument() as unknown as { paths: Record<string, Record<string, any>> };
const routes = functions.flatMap((f) => (f.routes ?? []).map((r) => ({ ...r, fn: f.name })));

describe('openApiDocument', () => {
  test('has exactly the catalog routes, public ones without security and staff ones with the bearer scheme', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
    for (const r of routes) {
      const op = doc.paths[r.path]![r.method.toLowerCase()];
      if (r.access === 'public') expect(op.security).toEqual([]);
      else expect(op.security).toBeUndefined(); // inherits the document's bearer requirement
    }
  });

  test('every POST route has its request body schema', () => {
    const posts = routes.filter((r) => r.method === 'POST').map((r) => `${r.method} ${r.path}`);
    expect(Object.keys(REQUEST_BODIES).sort()).toEqual(posts.sort());
  });

  test('the intake body schema accepts a valid intake and rejects one without a patient', () => {
    const schema = doc.paths['/api/referrals']!.post.requestBody.content['application/json'].schema;
    const ajv = new Ajv({ strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(schema);
    expect(validate(validIntake())).toBe(true);
    const { patient: _p, ...noPatient } = validIntake();
    expect(validate(noPatient)).toBe(false);
  });
});
