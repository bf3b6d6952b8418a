import { actionsOfNeed, type Need } from '../../../../infra/grants';
import type { CommandUse, Reach } from './sdk-reach';

// the IAM actions an AWS SDK v3 command needs, by package and command class. A command the
// analysis finds that is not listed here has no known action: the permissions test reports it
// instead of passing it, so a new kind of call forces an entry here (and a look at the catalog).

/** `@aws-sdk/<package>` → command class → IAM actions */
export const SDK_ACTIONS: Record<string, Record<string, string[]>> = {
  '@aws-sdk/lib-dynamodb': {
    GetCommand: ['dynamodb:GetItem'],
    QueryCommand: ['dynamodb:Query'],
    ScanCommand: ['dynamodb:Scan'],
    BatchGetCommand: ['dynamodb:BatchGetItem'],
    TransactGetCommand: ['dynamodb:GetItem'],
    PutCommand: ['dynamodb:PutItem'],
    UpdateCommand: ['dynamodb:UpdateItem'],
    DeleteCommand: ['dynamodb:DeleteItem'],
    BatchWriteCommand: ['dynamodb:BatchWriteItem'],
    // a transaction needs the action of each kind of item it holds; the kinds are data, so all four
    TransactWriteCommand: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'],
  },
  '@aws-sdk/client-dynamodb': {
    GetItemCommand: ['dynamodb:GetItem'],
    QueryCommand: ['dynamodb:Query'],
    ScanCommand: ['dynamodb:Scan'],
    BatchGetItemCommand: ['dynamodb:BatchGetItem'],
    TransactGetItemsCommand: ['dynamodb:GetItem'],
    PutItemCommand: ['dynamodb:PutItem'],
    UpdateItemCommand: ['dynamodb:UpdateItem'],
    DeleteItemCommand: ['dynamodb:DeleteItem'],
    BatchWriteItemCommand: ['dynamodb:BatchWriteItem'],
    TransactWriteItemsCommand: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'],
    DescribeTableCommand: ['dynamodb:DescribeTable'],
  },
  '@aws-sdk/client-sfn': {
    StartExecutionCommand: ['states:StartExecution'],
    StartSyncExecutionCommand: ['states:StartSyncExecution'],
    StopExecutionCommand: ['states:StopExecution'],
    RedriveExecutionCommand: ['states:RedriveExecution'],
    SendTaskSuccessCommand: ['states:SendTaskSuccess'],
    SendTaskFailureCommand: ['states:SendTaskFailure'],
    SendTaskHeartbeatCommand: ['states:SendTaskHeartbeat'],
    DescribeStateMachineCommand: ['states:DescribeStateMachine'],
    DescribeExecutionCommand: ['states:DescribeExecution'],
    ListExecutionsCommand: ['states:ListExecutions'],
    GetExecutionHistoryCommand: ['states:GetExecutionHistory'],
  },
  '@aws-sdk/client-sesv2': {
    // SES v2 SendEmail is authorised as ses:SendEmail for simple content and as ses:SendRawEmail
    // for raw MIME (which the SES mailer sends); the content kind is data, so both
    SendEmailCommand: ['ses:SendEmail', 'ses:SendRawEmail'],
    SendBulkEmailCommand: ['ses:SendBulkEmail'],
  },
  '@aws-sdk/client-secrets-manager': {
    GetSecretValueCommand: ['secretsmanager:GetSecretValue'],
  },
  '@aws-sdk/client-ses': {
    SendEmailCommand: ['ses:SendEmail'],
    SendRawEmailCommand: ['ses:SendRawEmail'],
    SendTemplatedEmailCommand: ['ses:SendTemplatedEmail'],
  },
};

/** the IAM actions of one command, or undefined when the table does not know it */
export const actionsOfCommand = (pkg: string, command: string): string[] | undefined => SDK_ACTIONS[pkg]?.[command];

/** one command a function can issue whose actions its needs do not all grant */
export interface Gap extends CommandUse {
  /** the command's actions the needs leave out; every action when the table does not know the command */
  missing: string[];
  unmapped: boolean;
}

/** the commands a function's code can reach that its needs do not grant (or that have no known action) */
export const permissionGaps = (reach: Reach, needs: readonly Need[]): Gap[] => {
  const granted = new Set(needs.flatMap(actionsOfNeed));
  const gaps: Gap[] = [];
  for (const use of reach.commands.values()) {
    const actions = actionsOfCommand(use.pkg, use.command);
    const missing = (actions ?? [`${use.pkg}#${use.command}`]).filter((a) => !granted.has(a));
    if (missing.length) gaps.push({ ...use, missing, unmapped: !actions });
  }
  return gaps;
};

/** needs a function could drop without opening a gap: granted, never used by its code */
export const unusedNeeds = (reach: Reach, needs: readonly Need[]): Need[] =>
  needs.filter(
    (n) =>
      permissionGaps(
        reach,
        needs.filter((m) => m !== n),
      ).length === 0,
  );

/** the IAM actions a function's code can reach (sorted; unmapped commands by name) */
export const reachableActions = (reach: Reach): string[] =>
  [...new Set([...reach.commands.values()].flatMap((u) => actionsOfCommand(u.pkg, u.command) ?? [`${u.pkg}#${u.command}`]))].sort();
