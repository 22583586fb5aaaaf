// Bundles GraphiQL for the playground into ../static/graphiql (committed,
// so that `go build` and `make run` need no npm and work offline). The
// fonts GraphiQL's stylesheet inlines as data: URLs are written out as files
// beside it: the playground's Content-Security-Policy allows fonts from
// Lethe itself only (font-src 'self').
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const out = '../static/graphiql';
rmSync(out, { recursive: true, force: true });
mkdirSync(`${out}/fonts`, { recursive: true });
await build({
  entryPoints: ['src/graphiql.jsx'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  legalComments: 'linked',
  define: { 'process.env.NODE_ENV': '"production"' },
  outfile: `${out}/graphiql.js`,
  logLevel: 'warning',
});
const cssFile = `${out}/graphiql.css`;
const css = readFileSync(cssFile, 'utf8').replace(/url\(data:font\/(woff2?);base64,([A-Za-z0-9+/=]+)\)/g, (_, kind, b64) => {
  const bytes = Buffer.from(b64, 'base64');
  const name = `${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}.${kind}`;
  writeFileSync(`${out}/fonts/${name}`, bytes);
  return `url(fonts/${name})`;
});
// Images may stay inline (img-src 'self' data:); nothing else may.
if (/url\(\s*["']?data:(?!image\/)/.test(css)) throw new Error('graphiql.css still holds data: URLs other than images');
writeFileSync(cssFile, css);
