/**
 * web/dist as CloudFront serves it from S3: the index rewrite of infra/constructs/web.ts (`/` → 302
 * `/intake/`, `/x/` → `/x/index.html`, `/x` → 302 `/x/`), content types, HTML never cached, no
 * path out of the root, the embeddable page's files marked for their own headers.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { EMBED_PATH_PREFIX } from '../../functions/lib/security-headers';
import type { Reply } from './reply';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ics': 'text/calendar; charset=utf-8',
};

/** the file at `rawPath` under `webRoot` (web/dist), or the redirect or error CloudFront and S3 would answer */
export const staticFile = async (webRoot: string, method: string, rawPath: string): Promise<Reply> => {
  const notFound = (): Reply => ({
    statusCode: 404,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
    body: 'Not Found\n',
    label: 'static (not found)',
  });
  if (method !== 'GET' && method !== 'HEAD') {
    return {
      statusCode: 405,
      headers: { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' },
      body: 'Method Not Allowed\n',
      label: 'static (method)',
    };
  }
  let uri: string;
  try {
    uri = decodeURIComponent(rawPath);
  } catch {
    return { statusCode: 400, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Bad Request\n', label: 'static (bad path)' };
  }
  // "//host" would turn the add-a-slash redirect into a protocol-relative (open) redirect
  if (uri.includes('\0') || uri.includes('\\') || !uri.startsWith('/') || uri.startsWith('//')) return notFound();
  // no segment may climb out (S3 keys have no "..": CloudFront would look up a key that does not exist)
  if (uri.split('/').some((seg) => seg === '..' || seg === '.')) return notFound();
  // the CloudFront function of infra/constructs/web.ts
  if (uri === '/') return { statusCode: 302, headers: { location: '/intake/', 'cache-control': 'no-store' }, label: '/ → /intake/' };
  if (uri.endsWith('/')) uri += 'index.html';
  else if (uri.lastIndexOf('.') < uri.lastIndexOf('/')) {
    return { statusCode: 302, headers: { location: `${rawPath}/`, 'cache-control': 'no-store' }, label: 'static (add slash)' };
  }
  const file = resolve(webRoot, `.${uri}`);
  if (!file.startsWith(webRoot + sep)) return notFound();
  try {
    const info = await stat(file);
    if (!info.isFile()) return notFound();
    const body = await readFile(file);
    const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    const cache = type.startsWith('text/html') ? 'no-store' : 'no-cache';
    return {
      statusCode: 200,
      headers: { 'content-type': type, 'cache-control': cache, 'last-modified': info.mtime.toUTCString() },
      body,
      label: file.slice(webRoot.length).split(sep).join('/'),
      ...(uri.startsWith(EMBED_PATH_PREFIX) ? { embed: true } : {}),
    };
  } catch {
    return notFound();
  }
};
