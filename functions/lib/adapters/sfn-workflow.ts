import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  type SFNClient,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { Route } from '../domain/workflow';
import type { Workflow } from './ports';

/**
 * Step Functions behind the Workflow port. The first execution is named by the referral id with
 * input `{ referralId }`; a resumed one has its own name and input `{ referralId, route }`, which
 * the state machine's Start choice sends straight to `route.next`.
 */
export class SfnWorkflow implements Workflow {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  private executionArn(name: string): string {
    // arn:aws:states:<region>:<account>:stateMachine:<name> → ...:execution:<name>:<execution name>
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }

  async start(referralId: string, resume?: { name: string; route: Route }): Promise<'started' | 'exists'> {
    const name = resume?.name ?? referralId;
    const input = resume ? { referralId, route: resume.route } : { referralId };
    try {
      await this.sfn.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }));
      return 'started';
    } catch (err) {
      // the same name and input is idempotent on AWS; an existing execution means it was started
      if (!(err instanceof ExecutionAlreadyExists)) throw err;
      return 'exists';
    }
  }

  async resume(taskToken: string, route: Route): Promise<void> {
    await this.sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(route) }));
  }

  async stop(execution: string, cause: string): Promise<void> {
    await this.sfn.send(new StopExecutionCommand({ executionArn: this.executionArn(execution), error: 'Referral.Withdrawn', cause }));
  }

  async running(execution: string): Promise<boolean> {
    const { status } = await this.sfn.send(new DescribeExecutionCommand({ executionArn: this.executionArn(execution) }));
    // a redrive pending is about to run again
    return status === 'RUNNING' || status === 'PENDING_REDRIVE';
  }

  async ping(): Promise<void> {
    const { status } = await this.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: this.stateMachineArn }));
    if (status !== 'ACTIVE') throw Object.assign(new Error(`state machine ${status}`), { name: 'WorkflowNotActive' });
  }
}
