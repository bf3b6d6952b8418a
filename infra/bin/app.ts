#!/usr/bin/env node
// the CDK app entry (cdk.json "app"): `npx cdk synth -c stage=dev|prod`; cdk-nag runs on every synth
import { buildApp } from '../app';

const { app } = buildApp();
app.synth();
