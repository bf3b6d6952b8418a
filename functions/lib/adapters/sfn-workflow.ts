import {
  DescribeStateMachineCommand, ExecutionAlreadyExists, type SFNClient, SendTaskSuccessCommand, StartExecutionCommand, StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { Route } from '../domain/workflow';
import type { Workflow } from './ports';

/** Step Functions behind the Workflow port; the execution name is the referral id */
export class SfnWorkflow implements Workflow {
  constructor(private readonly sfn: SFNClient, private readonly stateMachineArn: string) {}

  private executionArn(referralId: string): string {
    // arn:aws:states:<region>:<account>:stateMachine:<name> → ...:execution:<name>:<referralId>
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${referralId}`;
  }

  async start(referralId: string): Promise<void> {
    try {
      await this.sfn.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name: referralId, input: JSON.stringify({ referralId }) }));
    } catch (err) {
      // the same name and input is idempotent on AWS; an existing execution means it was started
      if (!(err instanceof ExecutionAlreadyExists)) throw err;
    }
  }

  async resume(taskToken: string, route: Route): Promise<void> {
    await this.sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(route) }));
  }

  async stop(referralId: string, cause: string): Promise<void> {
    await this.sfn.send(new StopExecutionCommand({ executionArn: this.executionArn(referralId), error: 'Referral.Withdrawn', cause }));
  }

  async ping(): Promise<void> {
    const { status } = await this.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: this.stateMachineArn }));
    if (status !== 'ACTIVE') throw Object.assign(new Error(`state machine ${status}`), { name: 'WorkflowNotActive' });
  }
}
