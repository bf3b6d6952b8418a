/** the names every part of the local runtime shares (one place: the gateway, the emulators, the handlers' environment) */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** the repository's root */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** every server of the runtime binds loopback only */
export const HOST = '127.0.0.1';
export const REGION = 'us-east-1';
export const ACCOUNT_ID = '000000000000';
export const TABLE_NAME = 'iop-referrals';
