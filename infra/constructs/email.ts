import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { StageConfig } from '../config';

export interface EmailProps {
  config: StageConfig;
  opsKey: kms.IKey;
}

/**
 * SES sending: the domain identity (Easy DKIM) and a configuration set that requires TLS to the
 * receiving server, keeps bounced and complaining addresses suppressed, and publishes
 * bounce/complaint/reject/delay events to an encrypted SNS topic for the program's operators.
 *
 * The identity is the domain itself, so only one stack per account and region can create it
 * (`-c sesIdentity=create`, the default); any other stage sending from the same domain, or a
 * domain that already is an identity, references it with `-c sesIdentity=import`. The handlers
 * name the configuration set on every send (SES_CONFIGURATION_SET), so it applies either way.
 */
export class Email extends Construct {
  /** undefined when the identity is imported */
  readonly identity?: ses.EmailIdentity;
  readonly configurationSet: ses.ConfigurationSet;
  readonly configurationSetName: string;
  readonly eventsTopic: sns.Topic;
  /** IAM resources of ses:SendEmail / ses:SendRawEmail */
  readonly identityArn: string;
  readonly configurationSetArn: string;

  constructor(scope: Construct, id: string, props: EmailProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);

    this.configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet', {
      configurationSetName: config.prefix,
      tlsPolicy: ses.ConfigurationSetTlsPolicy.REQUIRE,
      reputationMetrics: true,
      sendingEnabled: true,
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    });

    this.eventsTopic = new sns.Topic(this, 'EventsTopic', {
      displayName: `${config.prefix} email bounces and complaints`,
      masterKey: props.opsKey,
      enforceSSL: true,
    });
    this.configurationSet.addEventDestination('BouncesAndComplaints', {
      destination: ses.EventDestination.snsTopic(this.eventsTopic),
      events: [
        ses.EmailSendingEvent.BOUNCE,
        ses.EmailSendingEvent.COMPLAINT,
        ses.EmailSendingEvent.REJECT,
        ses.EmailSendingEvent.RENDERING_FAILURE,
        ses.EmailSendingEvent.DELIVERY_DELAY,
      ],
    });

    this.configurationSetName = config.prefix;
    if (config.sesIdentity === 'create') {
      // the identity's default configuration set too, for anything that sends without naming one
      this.identity = new ses.EmailIdentity(this, 'Identity', {
        identity: ses.Identity.domain(config.mailDomain),
        configurationSet: this.configurationSet,
      });
      // its DKIM keys are published in the domain's DNS: keep it when the stack goes (a later
      // stack then imports it), but let a rolled-back first create remove it
      this.identity.applyRemovalPolicy(config.removalPolicy);
    }

    this.identityArn = stack.formatArn({
      service: 'ses',
      resource: 'identity',
      resourceName: config.mailDomain,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    this.configurationSetArn = stack.formatArn({
      service: 'ses',
      resource: 'configuration-set',
      resourceName: config.prefix,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }
}
