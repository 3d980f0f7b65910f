// Test oracle: evaluates IAM identity policies against requests with @cloud-copilot/iam-simulate, an
// evaluator this project did not write (AGPL-3.0: a test-time devDependency, never shipped or imported by
// collector_runtime). Driven by tests/oracle/iam_oracle.py; usable by hand too:
//
//   node tests/oracle/simulate.mjs < batch.json
//
// stdin, one JSON document:
//   {"policies": [{...}, ...] (or "policy": {...}),
//    "requests": [{"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k", "account": "123456789012",
//                  "principal": "arn:aws:iam::123456789012:role/x",   // optional, default a role in `account`
//                  "resource_account": "123456789012",                 // optional, default `account`
//                  "context": {"iam:PassedToService": "lambda.amazonaws.com"},          // optional
//                  "resource_policy": {...}}, ...]}                                     // optional
// stdout: one JSON line per request, in order (see decide() below). Exit status 2, with the reason on stderr,
// on a malformed document or an invalid policy.
import { isConditionKeyArray, runSimulation, typeForContextKey } from '@cloud-copilot/iam-simulate'
// iam-simulate's own policy parser (its dependency): each policy is validated once per batch, not per request.
import { createValidatedPolicy, validateIdentityPolicy } from '@cloud-copilot/iam-policy'

const ACCOUNT = /^\d{12}$/

function fail(message) {
  process.stderr.write(`simulate.mjs: ${message}\n`)
  process.exit(2)
}

async function readStdin() {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
}

function label(analysis) {
  const sid = analysis.statement.sid()
  return `${analysis.policyId} ${sid === undefined ? '#' + analysis.statement.index() : JSON.stringify(sid)}`
}

function asList(value) {
  if (value === undefined) return []
  return Array.isArray(value) ? value : [value]
}

// Why a statement whose Action matched did not apply: its resource, its conditions.
function whyUnmatched(analysis) {
  const explain = analysis.explain
  const parts = []
  if (!explain.resourceMatch) {
    const resources = asList(explain.resources).filter((r) => !r.matches)
    const shown = resources.map((r) => `${r.resource} (${r.mismatchReason ?? (r.errors ?? []).join('; ')})`)
    parts.push(`resource does not match: ${shown.join(', ') || 'NotResource excludes it'}`)
  }
  if (!explain.conditionMatch) {
    for (const c of asList(explain.conditions).filter((c) => !c.matches)) {
      const wanted = asList(c.values).map((v) => v.value)
      const value = c.resolvedConditionKeyValue
      const got = c.failedBecauseMissing
        ? 'key absent from the request'
        : value === undefined
          ? 'operator not evaluated'
          : `request has ${JSON.stringify(value)}`
      parts.push(`condition ${c.operator} ${c.conditionKeyValue} ${JSON.stringify(wanted)} not met (${got})`)
    }
  }
  return `${label(analysis)}: ${parts.join('; ') || 'does not apply'}`
}

function reasonFor(overall, analysis, request) {
  const identity = analysis.identityAnalysis
  const denies = identity.denyStatements.map(label)
  const allows = identity.allowStatements.map(label)
  if (identity.result === 'ExplicitlyDenied') return `explicitly denied by ${denies.join(', ')}`
  if (identity.result === 'Allowed') {
    if (overall === 'Allowed') return `allowed by ${allows.join(', ')}`
    const blockers = analysis.blockedBy?.length ? `blocked by ${analysis.blockedBy.join(', ')}` : ''
    const policy = request.resource_policy ? 'the resource policy does not grant it' : 'no resource policy was given'
    const account = analysis.sameAccount
      ? `the service's own rules deny it (${policy}; a KMS key needs a key policy even in the caller's ` +
        'account; AWS-reserved roles and AWS managed policies cannot be changed)'
      : `it is cross-account (principal ${request.account}, resource ${request.resource_account}) and ${policy}`
    return `the identity policy allows it (${allows.join(', ')}) but ${blockers || account}`
  }
  const relevant = identity.unmatchedStatements.filter((s) => s.actionMatch)
  if (relevant.length === 0) return `implicitly denied: no statement's Action matches ${request.action}`
  return `implicitly denied: ${relevant.map(whyUnmatched).join(' | ')}`
}

function check(request, index) {
  for (const field of ['action', 'resource', 'account']) {
    if (typeof request?.[field] !== 'string') fail(`requests[${index}].${field} must be a string`)
  }
  for (const field of ['account', 'resource_account']) {
    const value = request[field]
    if (value !== undefined && !ACCOUNT.test(value)) fail(`requests[${index}].${field} is not a 12-digit account: ${value}`)
  }
}

const EMPTY = {
  allow_statements: [],
  deny_statements: [],
  same_account: true,
  blocked_by: [],
  resource_type: null,
  ignored_context_keys: []
}

// iam-simulate keeps only the first of several values given for a single-valued key: refuse that instead.
async function singleValuedWithList(context) {
  for (const [key, value] of Object.entries(context)) {
    if (!Array.isArray(value) || value.length < 2) continue
    const type = await typeForContextKey(key).catch(() => undefined) // unknown keys are ignored anyway
    if (type && !isConditionKeyArray(type)) return `context.single-valued: ${key} (${type}) takes one value`
  }
  return undefined
}

// One output line: the overall decision, the identity policies' own decision, and why.
async function decide(policies, request, index) {
  const simulation = {
    request: {
      principal: request.principal ?? `arn:aws:iam::${request.account}:role/csm-oracle-caller`,
      action: request.action,
      resource: { resource: request.resource, accountId: request.resource_account },
      contextVariables: request.context ?? {}
    },
    identityPolicies: policies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(request.resource_policy ? { resourcePolicy: request.resource_policy } : {})
  }
  const listError = await singleValuedWithList(simulation.request.contextVariables)
  if (listError) return { index, result: 'Error', error: listError, error_details: {} }
  const response = await runSimulation(simulation, {})
  if (response.resultType === 'error') {
    return { index, result: 'Error', error: response.errors.message, error_details: response.errors }
  }
  if (response.resultType !== 'single') {
    // iam-simulate then tries each matching policy pattern: an answer to another question than "is this call allowed".
    const message = 'resource.pattern: a request names one resource ARN, or "*" for an action without resource types'
    return { index, result: 'Error', error: message, error_details: {} }
  }
  const single = response.result
  const analysis = single.analysis
  if (!analysis.identityAnalysis) {
    // sts:GetCallerIdentity: allowed for any signed-in caller, whatever the policies say (as in AWS).
    const reason = `${request.action} is allowed without evaluating policies`
    return { index, result: response.overallResult, identity_result: response.overallResult, reason, ...EMPTY }
  }
  const identity = analysis.identityAnalysis
  return {
    index,
    result: response.overallResult,
    identity_result: identity.result,
    reason: reasonFor(response.overallResult, analysis, request),
    allow_statements: identity.allowStatements.map(label),
    deny_statements: identity.denyStatements.map(label),
    same_account: analysis.sameAccount,
    blocked_by: analysis.blockedBy ?? [],
    resource_type: single.resourceType ?? null,
    ignored_context_keys: single.ignoredContextKeys
  }
}

let document
try {
  document = JSON.parse(await readStdin())
} catch (error) {
  fail(`stdin is not one JSON document: ${error.message}`)
}
const rawPolicies = document.policies ?? (document.policy ? [document.policy] : undefined)
if (!Array.isArray(rawPolicies) || rawPolicies.length === 0) fail('give "policy" (an object) or "policies" (a list)')
if (!Array.isArray(document.requests)) fail('"requests" must be a list')
const policies = rawPolicies.map((policy, i) => {
  const name = rawPolicies.length === 1 ? 'policy' : `policy${i}`
  const validated = createValidatedPolicy(policy, validateIdentityPolicy)
  if (validated.errors.length) fail(`${name} is not a valid identity policy: ${JSON.stringify(validated.errors)}`)
  return { name, policy: validated }
})
document.requests.forEach(check)
for (const request of document.requests) request.resource_account ??= request.account

const lines = []
for (const [index, request] of document.requests.entries()) {
  lines.push(JSON.stringify(await decide(policies, request, index)))
}
process.stdout.write(lines.length ? lines.join('\n') + '\n' : '')
