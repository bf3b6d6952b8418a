/**
 * DynamoDB Local's class-data sharing cache.
 *
 * Most of the JVM's start is loading and verifying DynamoDB Local's classes. A dynamic AppCDS archive
 * (JDK 13+) maps them pre-parsed: ~0.9 s less wall time and ~1 s less CPU on two cores. JDK 17 refuses
 * to archive with a non-empty directory on the class path, and DynamoDBLocal.jar's manifest adds "."
 * to it; so a copy of the jar without its Class-Path attribute (the log4j2.xml it names is inside the
 * jar) is made once and launched with the library jars listed explicitly. The first run records the
 * archive when the JVM exits (a few seconds at stop(), once); later runs map it. Everything lives in
 * node_modules/.cache/iop-local/<key>, the key covering the JVM build and the class path. Any failure
 * falls back to `java -jar` (and LOCAL_DYNAMODB_CDS=0 turns it off).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import AdmZip from 'adm-zip';
import { ROOT } from '../constants';

const CDS_CACHE_ROOT = join(ROOT, 'node_modules', '.cache', 'iop-local');

export interface CdsLaunch {
  cacheDir: string;
  jar: string;
  mainClass: string;
  classPath: string;
  archive: string;
}

/** a copy of the jar with `META-INF/MANIFEST.MF` edited, every other entry as it was; and the old manifest */
export const rewriteJarManifest = (jar: Buffer, edit: (manifest: string) => string): { jar: Buffer; manifest: string } => {
  const zip = new AdmZip(jar);
  const entry = zip.getEntry('META-INF/MANIFEST.MF');
  if (!entry) throw new Error('the jar has no META-INF/MANIFEST.MF');
  const manifest = entry.getData().toString('utf8');
  zip.updateFile(entry, Buffer.from(edit(manifest), 'utf8'));
  return { jar: zip.toBuffer(), manifest };
};

/** the manifest without one main attribute (and its continuation lines) */
const dropManifestAttribute = (manifest: string, attribute: string): string => {
  const lines = manifest.split(/\r?\n/);
  const out: string[] = [];
  let dropping = false;
  for (const line of lines) {
    if (dropping && line.startsWith(' ')) continue;
    dropping = line.toLowerCase().startsWith(`${attribute.toLowerCase()}:`);
    if (!dropping) out.push(line);
  }
  return out.join('\r\n');
};

/** the cache entry for this JVM build and jar set, made (once, atomically) when missing */
export const prepareCds = (java: string, jar: string, libDir: string, version: string): CdsLaunch => {
  const javaReal = realpathSync(java);
  const javaStat = statSync(javaReal);
  const libs = readdirSync(libDir)
    .filter((n) => n.endsWith('.jar'))
    .sort()
    .map((n) => join(libDir, n));
  const key = createHash('sha256')
    .update(JSON.stringify([javaReal, javaStat.size, javaStat.mtimeMs, jar, libs]))
    .digest('hex')
    .slice(0, 16);
  const cacheDir = join(CDS_CACHE_ROOT, `${version}-${key}`);
  const launchFile = join(cacheDir, 'launch.json');
  const repacked = join(cacheDir, 'DynamoDBLocal-cds.jar');
  const archive = join(cacheDir, 'classes.jsa');
  if (existsSync(launchFile) && existsSync(repacked)) {
    const { mainClass, classPath } = JSON.parse(readFileSync(launchFile, 'utf8')) as { mainClass: string; classPath: string };
    return { cacheDir, jar: repacked, mainClass, classPath, archive };
  }
  mkdirSync(cacheDir, { recursive: true });
  const { jar: rewritten, manifest } = rewriteJarManifest(readFileSync(jar), (m) => dropManifestAttribute(m, 'Class-Path'));
  const mainClass = /^Main-Class:\s*(\S+)/im.exec(manifest)?.[1];
  if (!mainClass) throw new Error('DynamoDBLocal.jar names no Main-Class');
  const classPath = [repacked, ...libs].join(delimiter);
  const tmp = `${repacked}.${process.pid}.tmp`;
  writeFileSync(tmp, rewritten);
  renameSync(tmp, repacked);
  const tmpLaunch = `${launchFile}.${process.pid}.tmp`;
  writeFileSync(tmpLaunch, JSON.stringify({ mainClass, classPath }));
  renameSync(tmpLaunch, launchFile);
  return { cacheDir, jar: repacked, mainClass, classPath, archive };
};
