// Validates real responses against proto/openapi.yaml, so the contract and the
// server cannot drift apart: checkResponse(method, urlPath, res) throws when
// the operation, status or body is not in the contract.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { ROOT } from './server.mjs';

const spec = YAML.parse(readFileSync(join(ROOT, 'proto/openapi.yaml'), 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ ...spec, $id: 'openapi' });

const routes = Object.keys(spec.paths).map((p) => ({
  template: p,
  re: new RegExp('^' + p.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+') + '$'),
  literal: !p.includes('{'),
}));

export function findOperation(method, urlPath) {
  const path = urlPath.split('?')[0];
  // Prefer literal paths over templated ones (/instruments/export.csv before /instruments/{id}).
  const hits = routes.filter((r) => r.re.test(path)).sort((a, b) => b.literal - a.literal);
  for (const r of hits) {
    const op = spec.paths[r.template][method.toLowerCase()];
    if (op) return { template: r.template, op };
  }
  return null;
}

function ptr(s) { return s.replace(/~/g, '~0').replace(/\//g, '~1'); }

// res: {status, headers, body} as returned by tests/http/lib/server.mjs Client.
export function checkResponse(method, urlPath, res) {
  const found = findOperation(method, urlPath);
  if (!found) throw new Error(`${method} ${urlPath}: not in proto/openapi.yaml`);
  const { template, op } = found;
  const code = String(res.status);
  let resp = op.responses[code] || op.responses.default;
  let base = `openapi#/paths/${ptr(template)}/${method.toLowerCase()}/responses/${op.responses[code] ? code : 'default'}`;
  if (!resp) throw new Error(`${method} ${template}: status ${code} is not in the contract`);
  if (resp.$ref) { base = 'openapi' + resp.$ref; resp = resp.$ref.split('/').slice(1).reduce((o, k) => o[k], spec); }
  if (!resp.content) return true;
  const ctype = (res.headers.get('content-type') || '').split(';')[0].trim();
  const media = resp.content[ctype];
  if (!media) throw new Error(`${method} ${template} ${code}: content type ${ctype} not in the contract`);
  if (!media.schema || ctype !== 'application/json') return true;
  const validate = ajv.getSchema(`${base}/content/${ptr(ctype)}/schema`);
  if (!validate(res.body)) {
    throw new Error(`${method} ${template} ${code}: body does not match the contract: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(res.body).slice(0, 500)}`);
  }
  return true;
}
