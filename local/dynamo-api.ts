/**
 * The DynamoDB and DynamoDB Streams JSON 1.0 protocol, spoken directly to DynamoDB Local (it checks no
 * signature): the runtime's few admin calls and the stream poller do not need the SDK.
 */
import { REGION } from './constants';

export interface DynamoAnswer {
  status: number;
  json: Record<string, unknown>;
}

const TARGETS = { dynamodb: 'DynamoDB_20120810', streams: 'DynamoDBStreams_20120810' } as const;

/** one call; `service` picks the target prefix (the same endpoint serves both) */
export const dynamoCall = async (
  url: string,
  operation: string,
  body: object,
  service: keyof typeof TARGETS = 'dynamodb',
  region = REGION,
): Promise<DynamoAnswer> => {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `${TARGETS[service]}.${operation}`,
      authorization: `AWS4-HMAC-SHA256 Credential=local/20200101/${region}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: reported by status
  }
  return { status: res.status, json };
};

/** the short error code of an answer (`com.amazon…#ResourceInUseException` → `ResourceInUseException`) */
export const errorCode = (a: DynamoAnswer): string =>
  String(a.json.__type ?? '')
    .split('#')
    .pop() ?? '';

export const dynamoError = (operation: string, a: DynamoAnswer) =>
  new Error(`DynamoDB Local ${operation} failed (${a.status}): ${errorCode(a)} ${String(a.json.message ?? a.json.Message ?? '')}`.trim());
