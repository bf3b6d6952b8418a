import { Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { functions as catalog } from '../../functions/catalog';
import type { StageConfig } from '../config';
import { acknowledge } from '../nag';

export interface ApiProps {
  config: StageConfig;
  opsKey: kms.IKey;
}

export interface RouteProps {
  /** catalog name → deployed function */
  functions: ReadonlyMap<string, lambda.IFunction>;
  userPool: cognito.IUserPool;
  userPoolClient: cognito.IUserPoolClient;
}

/** the routes anyone may call, and why each is public (cdk-nag APIG4); everything else carries a Cognito JWT */
const PUBLIC_BECAUSE = {
  'POST /api/referrals': 'the patient intake form, used before any account exists',
  'GET /api/health': 'liveness probe without data',
  'GET /api/availability':
    "open seats per track for referrers' sites and the intake page: counts and dates of cohorts, no PHI, cached a minute at CloudFront",
  'GET /api/payers': "the intake form's payer picker: the configured payer names and payer IDs, no PHI, kept five minutes by browsers",
} as const satisfies Record<string, string>;

export const PUBLIC_ROUTES = Object.keys(PUBLIC_BECAUSE) as ReadonlyArray<keyof typeof PUBLIC_BECAUSE>;

/** the public intake's own stage throttle, below the API-wide default (raw CloudFormation keys) */
const INTAKE_THROTTLE = { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 };

/**
 * The HTTP API behind CloudFront `/api/*`: one `$default` stage with throttling and JSON access
 * logs (request metadata only: no bodies, no headers, no query strings) to a KMS-encrypted group.
 * Routes come from functions/catalog.ts in a second step ({@link addCatalogRoutes}), once the
 * Cognito app client exists (its callback URL is the CloudFront URL, which needs this API first).
 */
export class Api extends Construct {
  readonly httpApi: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly logGroup: logs.LogGroup;
  /** `<api id>.execute-api.<region>.<suffix>`: the CloudFront origin */
  readonly originDomainName: string;
  readonly routes: apigw.HttpRoute[] = [];

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);

    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      apiName: `${config.prefix}-api`,
      description: 'IOP intake and referral API (served under CloudFront /api/*)',
      createDefaultStage: false,
    });

    this.logGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: config.logRetention,
      encryptionKey: props.opsKey,
      removalPolicy: config.removalPolicy,
    });

    this.stage = this.httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 50, burstLimit: 100 },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.logGroup),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            sourceIp: '$context.identity.sourceIp',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationStatus: '$context.integrationStatus',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            staffSub: '$context.authorizer.claims.sub',
          }),
        ),
      },
    });

    this.originDomainName = `${this.httpApi.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
  }

  /**
   * One route per catalog route: public routes without an authorizer, staff and supervisor routes
   * behind a JWT authorizer on the Cognito user pool (the handlers check `cognito:groups`).
   */
  addCatalogRoutes(props: RouteProps): void {
    const region = Stack.of(this).region;
    const jwt = new HttpJwtAuthorizer('CognitoStaff', `https://cognito-idp.${region}.amazonaws.com/${props.userPool.userPoolId}`, {
      authorizerName: 'cognito-staff',
      // access tokens carry the app client in client_id, which the authorizer matches too
      jwtAudience: [props.userPoolClient.userPoolClientId],
    });

    for (const spec of catalog) {
      if (!spec.routes?.length) continue;
      const fn = props.functions.get(spec.name);
      if (!fn) throw new Error(`route target ${spec.name} has no deployed function`);
      const integration = new HttpLambdaIntegration(`${spec.name}-integration`, fn);
      for (const route of spec.routes) {
        const key = `${route.method} ${route.path}`;
        const isPublic = route.access === 'public';
        if (isPublic !== (PUBLIC_ROUTES as readonly string[]).includes(key)) {
          throw new Error(`route ${key} is ${route.access}; the public routes are exactly ${PUBLIC_ROUTES.join(', ')}`);
        }
        const [created] = this.httpApi.addRoutes({
          path: route.path,
          methods: [apigw.HttpMethod[route.method]],
          integration,
          authorizer: isPublic ? new apigw.HttpNoneAuthorizer() : jwt,
        });
        if (!created) throw new Error(`route ${key} was not created`);
        this.routes.push(created);
        if (isPublic) {
          acknowledge(created, {
            'AwsSolutions-APIG4': `${key} is public by design (${PUBLIC_BECAUSE[key as (typeof PUBLIC_ROUTES)[number]]}); it sits behind CloudFront + WAF rate limiting and its own stage throttle.`,
          });
        }
        if (key === 'POST /api/referrals') {
          const cfnStage = this.stage.node.defaultChild as apigw.CfnStage;
          cfnStage.routeSettings = { [key]: INTAKE_THROTTLE };
          // route settings may only name routes that exist
          this.stage.node.addDependency(created);
        }
      }
    }
  }
}
