import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, DefaultStackSynthesizer, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { functions as catalog } from '../../functions/catalog';
import {
  CONTENT_SECURITY_POLICY,
  EMBED_CONTENT_SECURITY_POLICY,
  EMBED_PATH_PREFIX,
  PERMISSIONS_POLICY,
} from '../../functions/lib/security-headers';
import { INTAKE_PAGE, withProgramPhone } from '../../web/program-page';
import type { StageConfig } from '../config';
import { acknowledge } from '../nag';

export interface WebProps {
  config: StageConfig;
  /** web/dist: the built intake form and staff console (deployed only when it exists) */
  distDir: string;
  /** the HTTP API's execute-api host, routed under /api/* */
  apiOriginDomainName: string;
  webAclArn: string;
  opsKey: kms.IKey;
}

/** what the console reads from /console/config.json (see web/src/console/config.ts) */
export interface ConsoleSettings {
  cognitoDomainUrl: string;
  clientId: string;
}

/**
 * the public open-seats route (the catalog's read-availability GET): CloudFront keeps its answer for
 * as long as the answer says, at most the route's publicCacheSeconds
 */
const availabilityRoute = catalog.find((f) => f.name === 'read-availability')?.routes?.find((r) => r.method === 'GET');
if (availabilityRoute?.publicCacheSeconds === undefined)
  throw new Error('functions/catalog.ts: read-availability has no GET route with publicCacheSeconds');
export const AVAILABILITY_PATH = availabilityRoute.path;
export const AVAILABILITY_MAX_TTL_SECONDS = availabilityRoute.publicCacheSeconds;

// directory URLs serve their index.html; '/' goes to the intake form; '/console' gets its slash
// so relative URLs (config.json) resolve inside the app's folder
const INDEX_REWRITE = `function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri === '/') {
    return { statusCode: 302, statusDescription: 'Found', headers: { location: { value: '/intake/' } } };
  }
  if (uri.endsWith('/')) {
    request.uri = uri + 'index.html';
  } else if (uri.lastIndexOf('.') < uri.lastIndexOf('/')) {
    return { statusCode: 302, statusDescription: 'Found', headers: { location: { value: uri + '/' } } };
  }
  return request;
}`;

/**
 * The web front door: a private S3 bucket served only through CloudFront (origin access control),
 * the HTTP API on the same distribution under /api/* (never cached, viewer headers except Host
 * forwarded), security headers on every response, access logs for both, and the WAF web ACL.
 */
export class Web extends Construct {
  readonly bucket: s3.Bucket;
  readonly logsBucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly headersPolicy: cloudfront.ResponseHeadersPolicy;
  /** https://<distribution or custom domain> */
  readonly baseUrl: string;
  readonly consoleUrl: string;
  readonly intakeUrl: string;
  private readonly props: WebProps;

  constructor(scope: Construct, id: string, props: WebProps) {
    super(scope, id);
    this.props = props;
    const { config } = props;

    // server access logs (S3) and standard logs (CloudFront); both services need SSE-S3 and
    // CloudFront's standard logging needs ACLs on the target bucket
    this.logsBucket = new s3.Bucket(this, 'LogsBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(config.isProd ? 2192 : 90), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: config.removalPolicy,
      autoDeleteObjects: !config.isProd,
    });
    acknowledge(this.logsBucket, {
      'HIPAA.Security-S3DefaultEncryptionKMS':
        'S3 server access logging and CloudFront standard logging can only deliver to buckets encrypted with SSE-S3 (AES-256), not SSE-KMS.',
      'HIPAA.Security-S3BucketReplicationEnabled':
        'Access logs are kept versioned with lifecycle retention in the one deployment region; cross-region replication is a separate DR decision (see DEPLOY.md).',
    });

    // a build artifact of the repository (rebuilt by every deploy), so it is emptied and removed
    // with the stack in every stage: a first create that fails after the upload rolls back clean
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      serverAccessLogsBucket: this.logsBucket,
      serverAccessLogsPrefix: 's3/web/',
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    acknowledge(this.bucket, {
      'HIPAA.Security-S3DefaultEncryptionKMS':
        'The bucket holds only the public static web app (HTML/JS/CSS and a config.json of public client IDs), no PHI; SSE-S3 encrypts it at rest and avoids a KMS key policy for the CloudFront OAC.',
      'HIPAA.Security-S3BucketReplicationEnabled':
        'The content is a build artifact of the repository and is redeployed by cdk deploy; replicating it would add nothing recoverable.',
    });

    const securityHeadersBehavior: cloudfront.ResponseSecurityHeadersBehavior = {
      contentSecurityPolicy: { contentSecurityPolicy: CONTENT_SECURITY_POLICY, override: true },
      strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, override: true },
      frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
      contentTypeOptions: { override: true },
      referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
    };
    const permissionsPolicy = { header: 'Permissions-Policy', value: PERMISSIONS_POLICY, override: true };
    this.headersPolicy = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'IOP security headers: CSP, HSTS, no framing, nosniff, no referrer',
      securityHeadersBehavior,
      customHeadersBehavior: { customHeaders: [permissionsPolicy] },
    });

    // the API: the same security headers, and no-store on every answer that does not say otherwise —
    // API Gateway's own 401/404/413/429 and the WAF's 429 included (the availability route keeps its max-age)
    const apiHeadersPolicy = new cloudfront.ResponseHeadersPolicy(this, 'ApiHeaders', {
      comment: 'IOP API: security headers, Cache-Control no-store unless the answer sets one',
      securityHeadersBehavior,
      customHeadersBehavior: { customHeaders: [permissionsPolicy, { header: 'Cache-Control', value: 'no-store', override: false }] },
    });

    // the embeddable open-seats page: framable by any site, otherwise the same headers
    const embedHeadersPolicy = new cloudfront.ResponseHeadersPolicy(this, 'EmbedHeaders', {
      comment: 'IOP open-seats widget: framable by any site (no PHI, no cookies); CSP, HSTS, nosniff, no referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: EMBED_CONTENT_SECURITY_POLICY, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, override: true },
        contentTypeOptions: { override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
      customHeadersBehavior: {
        customHeaders: [permissionsPolicy],
      },
    });

    // cached for as long as the origin says (cache-control: public, max-age=60), capped at a minute;
    // an answer without max-age (an error: no-store) is not kept. No cookie, header or query string
    // is part of the key or reaches the origin: the answer is the same for everyone.
    const availabilityCache = new cloudfront.CachePolicy(this, 'AvailabilityCache', {
      comment: `GET ${AVAILABILITY_PATH}: the origin max-age, at most ${AVAILABILITY_MAX_TTL_SECONDS} s`,
      minTtl: Duration.seconds(0),
      defaultTtl: Duration.seconds(0),
      maxTtl: Duration.seconds(AVAILABILITY_MAX_TTL_SECONDS),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });

    const indexRewrite = new cloudfront.Function(this, 'IndexRewrite', {
      code: cloudfront.FunctionCode.fromInline(INDEX_REWRITE),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      comment: 'directory index and / -> /intake/',
    });

    const customDomain =
      config.domainName && config.certificateArn
        ? {
            domainNames: [config.domainName],
            certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', config.certificateArn),
            minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
          }
        : {};

    const webOrigin = origins.S3BucketOrigin.withOriginAccessControl(this.bucket);
    const apiOrigin = new origins.HttpOrigin(props.apiOriginDomainName, {
      protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
      originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `${config.prefix}: intake form, staff console and /api/*`,
      defaultBehavior: {
        origin: webOrigin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.headersPolicy,
        functionAssociations: [{ function: indexRewrite, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      },
      // behaviors match in this order: the two narrow exceptions before /api/*
      additionalBehaviors: {
        [AVAILABILITY_PATH]: {
          origin: apiOrigin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
          cachePolicy: availabilityCache,
          responseHeadersPolicy: apiHeadersPolicy,
        },
        [`${EMBED_PATH_PREFIX}*`]: {
          origin: webOrigin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
          cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
          responseHeadersPolicy: embedHeadersPolicy,
          functionAssociations: [{ function: indexRewrite, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
        },
        '/api/*': {
          origin: apiOrigin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          // with caching disabled, the all-viewer policy may forward Authorization as well
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: apiHeadersPolicy,
        },
      },
      webAclId: props.webAclArn,
      enableLogging: true,
      logBucket: this.logsBucket,
      logFilePrefix: 'cloudfront/',
      logIncludesCookies: false,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      ...customDomain,
    });
    const findings: Record<string, string> = {
      'AwsSolutions-CFR1':
        'No geo restriction: patients and referring physicians may reach the intake from anywhere (travel, VPNs); abuse is handled by the WAF rate rule and managed rule groups instead.',
    };
    if (!config.domainName) {
      findings['AwsSolutions-CFR4'] =
        'Without a custom domain CloudFront serves *.cloudfront.net with its default certificate, whose security policy cannot be raised; set context domainName + certificateArn (ACM, us-east-1) to get TLSv1.2_2021 (DEPLOY.md).';
    }
    acknowledge(this.distribution, findings);

    this.baseUrl = `https://${config.domainName ?? this.distribution.distributionDomainName}`;
    this.consoleUrl = `${this.baseUrl}/console/`;
    this.intakeUrl = `${this.baseUrl}/intake/`;
  }

  /**
   * Uploads web/dist (when built) and the console's config.json, then invalidates the cache. A
   * second step because config.json needs the Cognito client, whose callback URL needs this
   * distribution.
   */
  deploy(settings: ConsoleSettings): s3deploy.BucketDeployment {
    const { config, distDir, opsKey } = this.props;
    const sources: s3deploy.ISource[] = [];
    if (existsSync(distDir)) {
      // the build's console/config.json is the local runtime's: the deployed one is written below;
      // the intake page gets the program's phone from this stage's settings
      sources.push(s3deploy.Source.asset(distDir, { exclude: ['console/config.json', INTAKE_PAGE, '**/*.map'] }));
      const intakePage = join(distDir, INTAKE_PAGE);
      if (existsSync(intakePage))
        sources.push(s3deploy.Source.data(INTAKE_PAGE, withProgramPhone(readFileSync(intakePage, 'utf8'), config.programPhone)));
    } else {
      Annotations.of(this).addWarningV2(
        'iop:web-dist-missing',
        `${distDir} does not exist: run the web build before deploying, or only config.json is uploaded`,
      );
    }
    sources.push(
      s3deploy.Source.jsonData('console/config.json', {
        auth: 'cognito',
        domain: settings.cognitoDomainUrl,
        clientId: settings.clientId,
        redirectUri: this.consoleUrl,
        logoutUri: this.consoleUrl,
        scopes: 'openid email profile',
      }),
    );

    const logGroup = new logs.LogGroup(this, 'DeployLogs', {
      retention: config.logRetention,
      encryptionKey: opsKey,
      removalPolicy: config.removalPolicy,
    });
    const deployment = new s3deploy.BucketDeployment(this, 'Deploy', {
      sources,
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      cacheControl: [s3deploy.CacheControl.noCache()],
      memoryLimit: 512,
      logGroup,
    });

    // the deployment's Lambda is a CDK-provided singleton at stack level
    const stack = Stack.of(this);
    for (const child of stack.node.children) {
      if (!child.node.id.startsWith('Custom::CDKBucketDeployment')) continue;
      acknowledge(child, {
        'AwsSolutions-L1':
          'CDK-provided BucketDeployment handler: its runtime is pinned by aws-cdk-lib together with the bundled AWS CLI layer and moves forward with CDK upgrades.',
        'HIPAA.Security-LambdaDLQ':
          'CloudFormation custom-resource handler, invoked synchronously by CloudFormation during deploys; a failure fails the deployment, there is nothing to redeliver.',
        'HIPAA.Security-LambdaConcurrency':
          'Runs only during cdk deploy (one invocation per deployment); reserving concurrency would only take capacity from the account pool.',
        'HIPAA.Security-LambdaInsideVPC':
          'Copies build artifacts from the CDK asset bucket to the web bucket over S3 regional endpoints; it touches no PHI and has no VPC-only dependency.',
      });
    }
    const qualifier = String(this.node.tryGetContext('@aws-cdk/core:bootstrapQualifier') ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER);
    const assetBucket = `arn:${stack.partition}:s3:::cdk-${qualifier}-assets-<AWS::AccountId>-${stack.region}/*`;
    const webObjects = `<${stack.resolve((this.bucket.node.defaultChild as s3.CfnBucket).logicalId)}.Arn>/*`;
    const cdkGrant = 'CDK-provided BucketDeployment handler: the S3 grant CDK generates for copying build assets';
    acknowledge(deployment.handlerRole, {
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
        'CDK-provided BucketDeployment handler role: the AWS-managed basic execution policy only lets it write its own CloudWatch logs.',
      'HIPAA.Security-IAMNoInlinePolicy':
        'CDK-provided BucketDeployment handler role: CDK generates its policy inline; it covers only the asset bucket, the web bucket and the cache invalidation.',
      'AwsSolutions-IAM5[Action::s3:GetBucket*]': `${cdkGrant} (read from the CDK asset bucket).`,
      'AwsSolutions-IAM5[Action::s3:GetObject*]': `${cdkGrant} (read from the CDK asset bucket).`,
      'AwsSolutions-IAM5[Action::s3:List*]': `${cdkGrant} (list source and destination for pruning).`,
      'AwsSolutions-IAM5[Action::s3:Abort*]': `${cdkGrant} (abort failed multipart uploads into the web bucket).`,
      'AwsSolutions-IAM5[Action::s3:DeleteObject*]': `${cdkGrant} (prune stale files from the web bucket).`,
      [`AwsSolutions-IAM5[Resource::${assetBucket}]`]: `${cdkGrant}: objects of the bootstrap asset bucket, whose keys are content hashes.`,
      [`AwsSolutions-IAM5[Resource::${webObjects}]`]: `${cdkGrant}: every object of the web bucket, which holds only the public web app.`,
      'AwsSolutions-IAM5[Resource::*]':
        'CDK-provided BucketDeployment handler: cloudfront:CreateInvalidation/GetInvalidation support no resource-level scoping in the policy CDK generates.',
    });
    return deployment;
  }
}
