import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag findings on one construct (and its children). Keys are the exact finding
 * ids, with the `[finding]` suffix where the rule reports one (IAM4/IAM5), values the reason.
 * cdk-nag 3 reads these through `Validations.of(c).acknowledge`; nothing here hides a finding
 * on any other construct.
 */
export const acknowledge = (scope: IConstruct, findings: Record<string, string>): void => {
  for (const [id, reason] of Object.entries(findings)) Validations.of(scope).acknowledge({ id, reason });
};
