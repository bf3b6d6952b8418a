import { Aws, Duration } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import type { StageConfig } from '../config';

export interface AuthProps {
  config: StageConfig;
  /** the staff console's URL (CloudFront + /console/): callback and sign-out URL of the app client */
  consoleUrl: string;
}

/** the Cognito groups the handlers check in `cognito:groups` */
const STAFF_GROUPS = { caseWorkers: 'case-workers', supervisors: 'supervisors' } as const;

/**
 * Staff sign-in: a Cognito user pool that only administrators can add users to, with TOTP MFA
 * required, a strong password policy and threat protection enforced (Plus feature plan); a public
 * app client for the console (authorization code + PKCE, no secret) and the managed login domain.
 */
export class Auth extends Construct {
  readonly userPool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;
  readonly domain: cognito.UserPoolDomain;
  /** `https://<prefix>.auth.<region>.amazoncognito.com` */
  readonly domainUrl: string;

  constructor(scope: Construct, id: string, props: AuthProps) {
    super(scope, id);
    const { config } = props;

    this.userPool = new cognito.UserPool(this, 'UserPool', {
      userPoolName: `${config.prefix}-staff`,
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
        passwordHistorySize: 12,
      },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      userInvitation: {
        emailSubject: 'Your staff console account',
        emailBody:
          'An account was created for you. Username: {username} Temporary password: {####} You will set a new password and an authenticator app at first sign-in.',
      },
      // on in prod, except on a first deploy that must be able to roll back (DEPLOY.md)
      deletionProtection: config.deletionProtection,
      removalPolicy: config.removalPolicy,
    });

    new cognito.UserPoolGroup(this, 'CaseWorkers', {
      userPool: this.userPool,
      groupName: STAFF_GROUPS.caseWorkers,
      description: 'Case workers: work queues, intake by phone, decide human steps, withdraw',
      precedence: 20,
    });
    new cognito.UserPoolGroup(this, 'Supervisors', {
      userPool: this.userPool,
      groupName: STAFF_GROUPS.supervisors,
      description: 'Supervisors: everything case workers do, plus managing IOP cohorts',
      precedence: 10,
    });

    // a browser app cannot keep a secret: public client, authorization code with PKCE (the
    // console always sends code_challenge S256), tokens short-lived and revocable
    this.client = this.userPool.addClient('ConsoleClient', {
      userPoolClientName: 'staff-console',
      generateSecret: false,
      // adminUserPassword: only through the IAM-signed admin API (cognito-idp:AdminInitiateAuth),
      // which `npm run smoke` uses for its Cognito test user; MFA still applies
      authFlows: { userSrp: true, adminUserPassword: true },
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [props.consoleUrl],
        logoutUrls: [props.consoleUrl],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(10),
    });

    this.domain = this.userPool.addDomain('Domain', {
      cognitoDomain: { domainPrefix: config.authDomainPrefix ?? `${config.prefix}-${Aws.ACCOUNT_ID}` },
      managedLoginVersion: cognito.ManagedLoginVersion.NEWER_MANAGED_LOGIN,
    });
    // managed login (v2) shows its pages only for clients that have a branding style
    new cognito.CfnManagedLoginBranding(this, 'Branding', {
      userPoolId: this.userPool.userPoolId,
      clientId: this.client.userPoolClientId,
      useCognitoProvidedValues: true,
    }).node.addDependency(this.domain);

    this.domainUrl = this.domain.baseUrl();
  }
}
