import type { FunctionSpec } from '../functions/catalog';

/** the catalog's `needs`, as one type */
export type Need = FunctionSpec['needs'][number];

/**
 * The IAM actions each catalog `need` grants, statement by statement (sid → actions). The functions
 * construct puts each statement on its resources (table, indexes, data key, state machine, ...);
 * test/unit/functions/permissions.test.ts checks that every action a function's code can reach is
 * in here for its needs. No CDK import, so a unit test reads it without loading aws-cdk-lib.
 */
export const GRANTS = {
  'table:read': {
    TableRead: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'],
    IndexRead: ['dynamodb:Query'],
    TableKeyRead: ['kms:Decrypt', 'kms:DescribeKey'],
  },
  'table:write': {
    TableWrite: [
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:ConditionCheckItem',
    ],
    TableKeyWrite: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
  },
  'workflow:start': { WorkflowStart: ['states:StartExecution'] },
  'workflow:callback': { WorkflowCallback: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'] },
  'workflow:stop': { WorkflowStop: ['states:StopExecution'] },
  'workflow:describe': { WorkflowDescribe: ['states:DescribeStateMachine'] },
  'workflow:inspect': { WorkflowInspect: ['states:DescribeExecution'] },
  'email:send': { EmailSend: ['ses:SendEmail', 'ses:SendRawEmail'] },
  // the secret is encrypted with the stack's ops key (a secret given by ARN: with its own key, see DEPLOY.md)
  'eligibility:key': { EligibilityKeyRead: ['secretsmanager:GetSecretValue'], EligibilityKeyDecrypt: ['kms:Decrypt'] },
} satisfies Record<Need, Record<string, string[]>>;

/** every IAM action one need grants, over all its statements */
export const actionsOfNeed = (need: Need): string[] => [...new Set(Object.values(GRANTS[need] as Record<string, string[]>).flat())];
