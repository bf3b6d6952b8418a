/** Parameters and options of LocalStepFunctions (the AWS API's shapes, camelCase as the SDK's). */
import type { ExecutionStatus } from '@aws-sdk/client-sfn';
import type { ExecutionStore } from './store';
import type { LocalFunctionHandler } from './tasks';

export interface LocalStepFunctionsLogger {
  info(msg: string, data?: object): void;
  error(msg: string, data?: object): void;
}

export interface LocalStepFunctionsOptions {
  /** default us-east-1 */
  region?: string;
  /** default 000000000000 */
  accountId?: string;
  /** resolves a Lambda function ARN or name (as written after definition substitution) to an in-process handler */
  resolveFunction: (functionArnOrName: string) => LocalFunctionHandler;
  /** divides every Wait duration, TimeoutSeconds/TimeoutSecondsPath, HeartbeatSeconds and Retry interval; default 1 */
  timeScale?: number;
  logger?: LocalStepFunctionsLogger;
  /** keeps executions on disk (see `restore()`); default: in memory only */
  store?: ExecutionStore;
}

export interface StartExecutionParams {
  stateMachineArn: string;
  name?: string;
  /** JSON text, default "{}" */
  input?: string;
}

export interface SendTaskSuccessParams {
  taskToken: string;
  /** JSON text */
  output: string;
}

export interface SendTaskFailureParams {
  taskToken: string;
  error?: string;
  cause?: string;
}

export interface SendTaskHeartbeatParams {
  taskToken: string;
}

export interface DescribeExecutionParams {
  executionArn: string;
}

export interface GetExecutionHistoryParams {
  executionArn: string;
  maxResults?: number;
  nextToken?: string;
  reverseOrder?: boolean;
  includeExecutionData?: boolean;
}

export interface ListExecutionsParams {
  stateMachineArn: string;
  statusFilter?: ExecutionStatus;
  maxResults?: number;
  nextToken?: string;
}

export interface StopExecutionParams {
  executionArn: string;
  error?: string;
  cause?: string;
}
