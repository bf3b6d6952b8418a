import { describe, expect, test } from '@jest/globals';
import type { Template } from 'aws-cdk-lib/assertions';
import { functions as catalog } from '../../functions/catalog';
import {
  CONTENT_SECURITY_POLICY,
  EMBED_CONTENT_SECURITY_POLICY,
  EMBED_PATH_PREFIX,
  EMBED_SECURITY_HEADERS,
  SECURITY_HEADERS,
} from '../../functions/lib/security-headers';
import { AVAILABILITY_MAX_TTL_SECONDS, AVAILABILITY_PATH } from '../../infra/constructs/web';
import { onlyOne, resourcesOf, templateFor } from './helpers';

// the two narrow exceptions of the CloudFront distribution (issue 14): GET /api/availability is
// cached for as long as its answer says (at most a minute), and /availability/ — the open-seats
// widget — may be framed by any site. Everything else stays uncached and unframable, and the local
// gateway makes the same exception.

const dev: Template = templateFor('dev');
const [, dist] = onlyOne(dev, 'AWS::CloudFront::Distribution', () => true);
const cfg = dist.Properties!.DistributionConfig as Record<string, any>;
const behaviors = cfg.CacheBehaviors as Array<Record<string, any>>;
const behavior = (pattern: string) => behaviors.find((b) => b.PathPattern === pattern);
const policies = resourcesOf(dev, 'AWS::CloudFront::ResponseHeadersPolicy');
const headersOf = (ref: unknown) => {
  const id = (ref as { Ref: string }).Ref;
  return policies[id]!.Properties!.ResponseHeadersPolicyConfig.SecurityHeadersConfig as Record<string, any>;
};

describe('GET /api/availability at CloudFront', () => {
  const b = behavior(AVAILABILITY_PATH);

  test('matches before /api/* and goes to the same API origin, GET and HEAD only', () => {
    expect(b).toBeDefined();
    expect(behaviors.findIndex((x) => x.PathPattern === AVAILABILITY_PATH)).toBeLessThan(
      behaviors.findIndex((x) => x.PathPattern === '/api/*'),
    );
    expect(b!.TargetOriginId).toBe(behavior('/api/*')!.TargetOriginId);
    expect(b!.AllowedMethods).toEqual(['GET', 'HEAD']);
    expect(b!.ViewerProtocolPolicy).toBe('https-only');
  });

  test('is kept only as long as the answer says, at most a minute, the same for everyone (no cookie, header or query string)', () => {
    const [, policy] = onlyOne(dev, 'AWS::CloudFront::CachePolicy', () => true);
    expect(b!.CachePolicyId).toEqual({ Ref: expect.any(String) });
    const p = policy.Properties!.CachePolicyConfig;
    expect(p).toMatchObject({ MinTTL: 0, DefaultTTL: 0, MaxTTL: AVAILABILITY_MAX_TTL_SECONDS });
    expect(p.ParametersInCacheKeyAndForwardedToOrigin).toMatchObject({
      CookiesConfig: { CookieBehavior: 'none' },
      HeadersConfig: { HeaderBehavior: 'none' },
      QueryStringsConfig: { QueryStringBehavior: 'none' },
    });
    expect(b!.OriginRequestPolicyId).toBeUndefined();
    // the route's own max-age is no longer than what CloudFront keeps
    const route = catalog.flatMap((f) => f.routes ?? []).find((r) => r.path === AVAILABILITY_PATH);
    expect(route?.publicCacheSeconds).toBe(AVAILABILITY_MAX_TTL_SECONDS);
  });

  test('the rest of /api/* stays uncached', () => {
    expect(behavior('/api/*')!.CachePolicyId).toBe('4135ea2d-6df8-44a3-9df3-4b5a84be39ad');
  });
});

describe('the embeddable open-seats page', () => {
  const b = behavior(`${EMBED_PATH_PREFIX}*`);

  test('may be framed by any site: frame-ancestors *, no X-Frame-Options; otherwise the same security headers', () => {
    const h = headersOf(b!.ResponseHeadersPolicyId);
    expect(h.ContentSecurityPolicy).toEqual({ ContentSecurityPolicy: EMBED_CONTENT_SECURITY_POLICY, Override: true });
    expect(EMBED_CONTENT_SECURITY_POLICY).toContain('frame-ancestors *');
    expect(h.FrameOptions).toBeUndefined();
    expect(h).toMatchObject({
      ContentTypeOptions: { Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'no-referrer' },
      StrictTransportSecurity: { IncludeSubdomains: true },
    });
    // from the web bucket with the directory-index rewrite, like the default behavior
    expect(b!.TargetOriginId).toBe(cfg.DefaultCacheBehavior.TargetOriginId);
    expect(b!.FunctionAssociations).toEqual(cfg.DefaultCacheBehavior.FunctionAssociations);
  });

  test('every other path keeps frame-ancestors none and X-Frame-Options DENY', () => {
    for (const other of [cfg.DefaultCacheBehavior, ...behaviors.filter((x) => x !== b)]) {
      const h = headersOf(other.ResponseHeadersPolicyId);
      expect(h.ContentSecurityPolicy.ContentSecurityPolicy).toBe(CONTENT_SECURITY_POLICY);
      expect(h.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
    }
  });

  test("the local gateway's headers (the same definition) make the same exception", () => {
    expect(EMBED_SECURITY_HEADERS['content-security-policy']).toBe(EMBED_CONTENT_SECURITY_POLICY);
    expect(SECURITY_HEADERS['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(EMBED_SECURITY_HEADERS).not.toHaveProperty('x-frame-options');
    expect(SECURITY_HEADERS['x-frame-options']).toBe('DENY');
    expect(SECURITY_HEADERS['content-security-policy']).toContain("frame-ancestors 'none'");
  });
});
